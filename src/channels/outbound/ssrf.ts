import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard. Every outbound address a user can influence (webhook URLs, chat webhook URLs,
 * custom provider base URLs) is checked after resolution, on the address the socket connects to,
 * so a name that resolves one way when checked and another when used (DNS rebinding) gains
 * nothing. Only public unicast addresses pass, unless a network is explicitly allowed
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

const STANDARD_PORTS = new Set(['', '80', '443']);

/**
 * Checks what can be checked without resolving: scheme, credentials, port, names that always point
 * inward, and IP literals (the WHATWG parser has already turned `127.1`, `0x7f000001` and
 * `0177.0.0.1` into 127.0.0.1). Throws OutboundRefused; returns the parsed URL.
 */
export function vetUrl(raw: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused('not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OutboundRefused(`only http and https URLs are allowed, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new OutboundRefused('URLs with credentials are not allowed');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.' || host.endsWith('.localhost.')) {
    throw new OutboundRefused(`${host} is a loopback name`);
  }
  if (host === 'metadata.google.internal' || host === 'metadata.google.internal.') {
    throw new OutboundRefused(`${host} is a cloud metadata name`);
  }
  if (isIP(host)) {
    const refusal = refusalFor(host, policy);
    if (refusal) throw new OutboundRefused(refusal);
  }
  // A name's port can only be judged once it has resolved (http-client), unless no network is
  // opened at all: then no address may take a port other than 80 and 443.
  const portDecidable = isIP(host) || policy.allowedNetworks.length === 0;
  if (portDecidable && portRefusal(url.port, host, policy)) {
    throw new OutboundRefused(`port ${url.port} is not allowed (only 80 and 443)`);
  }
  return url;
}

/** The port rule for a resolved address: public destinations only on 80 and 443. */
export function portRefusal(port: string, address: string, policy: AddressPolicy): string | undefined {
  if (STANDARD_PORTS.has(port) || isExplicitlyAllowed(address, policy)) return undefined;
  return `port ${port} is not allowed (only 80 and 443)`;
}
