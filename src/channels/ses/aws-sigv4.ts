import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for one request, written against the published algorithm so the SES
 * adapter needs no SDK. https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present with temporary (STS) credentials; it is sent and signed as x-amz-security-token. */
  sessionToken?: string;
}

export interface SignableRequest {
  method: string;
  url: string;
  /** Every header given here is signed; `host` is added from the URL. */
  headers: Record<string, string>;
  body: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 requires: all but unreserved characters, uppercase hex. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Services other than S3 sign each path segment URI-encoded twice. */
function canonicalUri(pathname: string): string {
  const path = pathname
    .split('/')
    .map((segment) => uriEncode(uriEncode(safeDecode(segment))))
    .join('/');
  return path || '/';
}

/** Parameters encoded, then sorted by name and value (code point order). */
function canonicalQuery(search: string): string {
  const pairs = search
    .replace(/^\?/, '')
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const [name, value] = at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
      return `${uriEncode(safeDecode(name))}=${uriEncode(safeDecode(value))}`;
    });
  return pairs.sort().join('&');
}

/** `20150830T123600Z`: the ISO 8601 basic form SigV4 uses. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** The key derived from the secret for one day, region and service. */
export function signingKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, dateStamp), region), service), 'aws4_request');
}

/**
 * The request's headers plus `host`, `x-amz-date`, `x-amz-security-token` (with a session token)
 * and `authorization`, all header names in lower case.
 */
export function signRequest(
  request: SignableRequest,
  credentials: AwsCredentials,
  scope: { region: string; service: string },
  date: Date,
): Record<string, string> {
  const url = new URL(request.url);
  const stamp = amzDate(date);
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers['x-amz-date'] = stamp;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body),
  ].join('\n');

  const dateStamp = stamp.slice(0, 8);
  const credentialScope = `${dateStamp}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const key = signingKey(credentials.secretAccessKey, dateStamp, scope.region, scope.service);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  headers.authorization =
    `${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
