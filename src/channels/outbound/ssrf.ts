import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard. Every outbound address a user can influence (webhook URLs, chat webhook URLs,
 * Web Push endpoints, custom provider base URLs, SMTP servers) is checked after resolution, on the
 * address the socket connects to, so a name that resolves one way when checked and another when
 * used (DNS rebinding) gains nothing. Only public unicast addresses pass, unless a network is explicitly allowed
 * (`HERALD_ALLOW_PRIVATE_NETWORKS`).
 */
export interface AddressPolicy {
  /** CIDR ranges opened on purpose (tests, internal services). */
  allowedNetworks: readonly string[];
}

export class OutboundRefused extends Error {
  readonly code = 'HERALD_OUTBOUND_REFUSED';
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

/** Parsed once per list: the guard runs on every request, the list never changes. */
const parsedNetworks = new WeakMap<readonly string[], [Parsed, number][]>();

function networks(policy: AddressPolicy): [Parsed, number][] {
  let parsed = parsedNetworks.get(policy.allowedNetworks);
  if (!parsed) {
    parsed = policy.allowedNetworks.map((cidr) => ipaddr.parseCIDR(cidr.trim()));
    parsedNetworks.set(policy.allowedNetworks, parsed);
  }
  return parsed;
}

/** Parses a CIDR list setting; throws with the offending entry. */
export function parseNetworkList(value: string): string[] {
  const list = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of list) {
    if (!ipaddr.isValidCIDR(item)) throw new Error(`not a CIDR range: ${item}`);
  }
  return list;
}

/**
 * IANA's global unicast space. ipaddr.js calls every IPv6 address outside its named ranges
 * "unicast", including the deprecated IPv4-compatible `::127.0.0.1` and unassigned space; only
 * addresses in 2000::/3 can be public destinations.
 */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Why an address may not be connected to, or undefined when it may. IPv4-mapped IPv6 addresses
 * are judged as the IPv4 address they carry; NAT64, 6to4 and Teredo addresses embed an IPv4
 * address a gateway would reach, so they are refused outright.
 */
export function refusalFor(address: string, policy: AddressPolicy): string | undefined {
  let ip: Parsed;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  for (const [network, bits] of networks(policy)) {
    if (network.kind() === ip.kind() && ip.match(network, bits)) return undefined;
  }
  const range = ip.range();
  if (range !== 'unicast') return `${ip.toString()} is a ${range} address`;
  if (ip.kind() === 'ipv6' && !ip.match(IPV6_GLOBAL_UNICAST)) return `${ip.toString()} is a reserved address`;
  return undefined;
}

/** True when the address lies in a network the policy opened (any port is allowed there). */
export function isExplicitlyAllowed(address: string, policy: AddressPolicy): boolean {
  try {
    let ip: Parsed = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    return networks(policy).some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits));
  } catch {
    return false;
  }
}

/**
 * What a guarded connection may speak and on which ports a public address may take it. A port is
 * a URL's port string: '' is the scheme's default.
 */
export interface OutboundProtocol {
  /** URL schemes, with their colon (`https:`). */
  schemes: readonly string[];
  /** Ports a public address may be reached on ('' = the scheme's default, always one of them). */
  ports: readonly string[];
  /** Whether a URL may carry user:password (an SMTP login does; an HTTP URL must not). */
  credentials: boolean;
}

export const HTTP: OutboundProtocol = { schemes: ['http:', 'https:'], ports: ['', '80', '443'], credentials: false };

/**
 * SMTP's usual ports: 25 (relay), 465 (implicit TLS), 587 (submission) and 2525 (the alternative
 * submission port many providers offer where 25 and 587 are blocked).
 */
export const SMTP: OutboundProtocol = {
  schemes: ['smtp:', 'smtps:'],
  ports: ['', '25', '465', '587', '2525'],
  credentials: true,
};

/** What to set to reach an address the guard refuses: the one setting that opens it, for that address. */
export function allowHint(address: string): string {
  let cidr: string;
  try {
    let ip: Parsed = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
    cidr = `${ip.toString()}/${ip.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    return 'an operator can open a range with HERALD_ALLOW_PRIVATE_NETWORKS';
  }
  return `to allow it, an operator sets HERALD_ALLOW_PRIVATE_NETWORKS (e.g. ${cidr})`;
}

const NAME_HINT = 'use its address, in a range an operator opened with HERALD_ALLOW_PRIVATE_NETWORKS';

function listOf(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

/**
 * The host a URL names, as a connection would use it: lower case, without IPv6 brackets, an IPv4
 * address in any spelling (`127.1`, `0x7f000001`) written out. URLs of other schemes than http(s)
 * (smtp:) keep their host as written, so it is read again the way http: reads it — a resolver
 * would take `0x7f000001` for 127.0.0.1 too. Undefined when the URL names no valid host.
 */
export function hostOf(url: URL): string | undefined {
  let hostname = url.hostname;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    try {
      hostname = new URL(`http://${url.host}`).hostname;
    } catch {
      return undefined;
    }
  }
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase() || undefined;
}

/**
 * Checks what can be checked without resolving: scheme, credentials, port, names that always point
 * inward, and IP literals (the WHATWG parser has already turned `127.1`, `0x7f000001` and
 * `0177.0.0.1` into 127.0.0.1). Throws OutboundRefused, whose message never repeats the URL (it may
 * hold a password); returns the parsed URL.
 */
export function vetUrl(raw: string, policy: AddressPolicy, protocol: OutboundProtocol = HTTP): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused('not a valid URL');
  }
  if (!protocol.schemes.includes(url.protocol)) {
    const names = protocol.schemes.map((scheme) => scheme.replace(/:$/, ''));
    throw new OutboundRefused(`only ${listOf(names)} URLs are allowed, not ${url.protocol}`);
  }
  if (!protocol.credentials && (url.username || url.password)) {
    throw new OutboundRefused('URLs with credentials are not allowed');
  }
  const host = hostOf(url);
  if (!host) throw new OutboundRefused('the URL names no valid host');
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.' || host.endsWith('.localhost.')) {
    throw new OutboundRefused(`${host} is a loopback name: ${NAME_HINT}`);
  }
  if (host === 'metadata.google.internal' || host === 'metadata.google.internal.') {
    throw new OutboundRefused(`${host} is a cloud metadata name`);
  }
  if (isIP(host)) {
    const refusal = refusalFor(host, policy);
    if (refusal) throw new OutboundRefused(`${refusal}; ${allowHint(host)}`);
  }
  // A name's port can only be judged once it has resolved (at connect time), unless no network is
  // opened at all: then no address may take a port other than the protocol's own.
  const portDecidable = isIP(host) || policy.allowedNetworks.length === 0;
  if (portDecidable) {
    const refusal = portRefusal(url.port, host, policy, protocol);
    if (refusal) throw new OutboundRefused(refusal);
  }
  return url;
}

/** The port rule for a resolved address: public destinations only on the protocol's own ports. */
export function portRefusal(
  port: string,
  address: string,
  policy: AddressPolicy,
  protocol: OutboundProtocol = HTTP,
): string | undefined {
  if (protocol.ports.includes(port) || isExplicitlyAllowed(address, policy)) return undefined;
  const usual = listOf(protocol.ports.filter(Boolean));
  const hint = isIP(address) ? allowHint(address) : 'unless HERALD_ALLOW_PRIVATE_NETWORKS opens its address';
  return `port ${port} is not allowed (only ${usual}); ${hint}`;
}

/**
 * Vets every address a name resolved to, with the port the connection will use: one refused
 * address refuses the name (a resolver may hand out any of them). Throws OutboundRefused.
 */
export function vetResolved(
  hostname: string,
  addresses: readonly string[],
  port: string,
  policy: AddressPolicy,
  protocol: OutboundProtocol = HTTP,
): void {
  for (const address of addresses) {
    const refusal = refusalFor(address, policy);
    if (refusal)
      throw new OutboundRefused(`${hostname} resolves to a refused address: ${refusal}; ${allowHint(address)}`);
    const portProblem = portRefusal(port, address, policy, protocol);
    if (portProblem) throw new OutboundRefused(`${hostname} resolves to a refused address: ${portProblem}`);
  }
}
