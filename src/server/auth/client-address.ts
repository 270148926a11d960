// Owns the `src` of the core's own events (SPEC.md §3.4): the TCP peer, IPv4-mapped IPv6 written
// as IPv4, and X-Forwarded-For honoured only when the peer is a trusted proxy.

import { BlockList, isIP } from 'node:net'
import { canonicalIpAddress } from '../../core/ingest-item.js'

/** RFC 5952 form, IPv4-mapped IPv6 as dotted IPv4 (SPEC.md §3.4); anything else unchanged. */
function canonical(address: string): string {
  return canonicalIpAddress(address) ?? address
}

export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/') as [string, string | undefined]
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address)
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * The originating address: walking X-Forwarded-For from the right, the first address that is
 * not a trusted proxy, as long as every hop after it was trusted.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: BlockList): string {
  let address = canonical(peer ?? '')
  if (forwardedFor === undefined) return address
  // A hop that is not a plain address (a zone id, a name, garbage) ends the walk.
  const hops = forwardedFor.split(',').map((hop) => canonicalIpAddress(hop.trim()))
  while (isTrusted(trusted, address) && hops.length > 0) {
    const next = hops.pop()
    if (next === null || next === undefined) break
    address = next
  }
  return address
}
