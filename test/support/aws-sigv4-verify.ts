import { createHash, createHmac } from 'node:crypto';
import type { RecordedRequest } from './fake-http.js';

/**
 * Checks an AWS Signature Version 4 the way AWS does: from the request as it arrived (method, path,
 * query, the signed headers' received values, the body), with the secret the fake knows. Written
 * apart from src/channels/ses/aws-sigv4.ts so a fake accepting a request means two readings of the
 * algorithm agree on the bytes that crossed the wire. Returns why the signature is refused, or
 * undefined when it is good.
 */
export function sigV4Refusal(
  request: RecordedRequest,
  expected: { accessKeyId: string; secretAccessKey: string; region: string; service: string; sessionToken?: string },
): string | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      String(request.headers.authorization ?? ''),
    );
  if (!match) return 'Authorization header is missing or malformed';
  const [, keyId, day, region, service, signedHeaders, signature] = match as unknown as string[];
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (keyId !== expected.accessKeyId) return 'The security token included in the request is invalid';
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day) return 'x-amz-date does not match the scope';
  if (region !== expected.region || service !== expected.service)
    return `Credential should be scoped to ${expected.region}/${expected.service}`;
  const signed = signedHeaders!.split(';');
  for (const required of ['host', 'x-amz-date', ...(expected.sessionToken ? ['x-amz-security-token'] : [])]) {
    if (!signed.includes(required)) return `${required} must be signed`;
  }
  if (expected.sessionToken && request.headers['x-amz-security-token'] !== expected.sessionToken) {
    return 'The security token included in the request is invalid';
  }

  const url = new URL(request.url, 'http://fake');
  const encode = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const path = url.pathname
    .split('/')
    .map((segment) => encode(encode(decodeURIComponent(segment))))
    .join('/');
  const query = [...url.searchParams]
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .sort()
    .join('&');
  const headers = signed
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = [request.method, path, query, headers, signedHeaders, sha256(request.body)].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${day}/${region}/${service}/aws4_request`,
    sha256(canonical),
  ].join('\n');
  let key: Buffer | string = `AWS4${expected.secretAccessKey}`;
  for (const part of [day!, region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expectedSignature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expectedSignature === signature
    ? undefined
    : 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
}
