import { sigV4Refusal } from '../aws-sigv4-verify.js';
import type { FakeAnswer, RecordedRequest } from '../fake-http.js';

/** The example credentials AWS publishes with its SigV4 examples and test suite. */
export const AWS_EXAMPLE_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
/** The session token the fake accepts with temporary credentials. */
export const AWS_SESSION_TOKEN = 'FwoGZXIvYXdzEXAMPLE//token+with/slashes=';
/** The region the fake's signatures are scoped to. */
export const SES_REGION = 'us-east-1';

/**
 * SES v2 SendEmail as AWS documents it: the SigV4 signature checked, 200 {MessageId}; errors with
 * x-amzn-ErrorType and {message}. `unverified@…` is refused (MessageRejected), `paused@…` meets a
 * paused account (SendingPausedException).
 */
export function answerSes(request: RecordedRequest): FakeAnswer {
  const error = (status: number, type: string, message: string) => ({
    status,
    headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` },
    body: { message },
  });
  if (request.method !== 'POST' || request.url !== '/v2/email/outbound-emails')
    return error(404, 'UnknownOperationException', 'Unknown operation');
  const token = request.headers['x-amz-security-token'] ? AWS_SESSION_TOKEN : undefined;
  const refusal = sigV4Refusal(request, {
    ...AWS_EXAMPLE_CREDENTIALS,
    region: SES_REGION,
    service: 'ses',
    sessionToken: token,
  });
  if (refusal) return error(403, 'SignatureDoesNotMatch', refusal);
  if (request.headers['content-type'] !== 'application/json') return error(400, 'BadRequestException', 'bad type');
  const body = JSON.parse(request.body);
  const to: string | undefined = body.Destination?.ToAddresses?.[0];
  const simple = body.Content?.Simple;
  if (!body.FromEmailAddress || !to || !simple?.Subject?.Data || !(simple.Body?.Text || simple.Body?.Html))
    return error(400, 'BadRequestException', 'Missing required field');
  if (to.includes('unverified@'))
    return error(
      400,
      'MessageRejected',
      'Email address is not verified. The following identities failed the check in region US-EAST-1: unverified@example.com',
    );
  if (to.includes('paused@')) return error(400, 'SendingPausedException', 'Sending is paused for this account.');
  return { status: 200, body: { MessageId: '010001918a1b2c3d-6a1e0f7e-4c1b-4a4e-9f5a-000000000000-000000' } };
}
