import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import {
  InvalidCidrError,
  cidrContains,
  embeddedIpv4,
  formatCidr,
  ipKey,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
} from '../../../src/shared/net/cidr.js'
import type { IpAddress } from '../../../src/shared/net/cidr.js'

const ip = (text: string): IpAddress => {
  const a = parseIp(text)
  if (a === undefined) throw new Error(`test address ${text} does not parse`)
  return a
}
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined)

describe('parseIpv4', () => {
  it('reads dotted quads', () => {
    expect([...parseIpv4('0.0.0.0')!]).toEqual([0, 0, 0, 0])
    expect([...parseIpv4('255.255.255.255')!]).toEqual([255, 255, 255, 255])
    expect([...parseIpv4('169.254.169.254')!]).toEqual([169, 254, 169, 254])
  })

  it('refuses everything else, including octal-looking leading zeros', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.-4',
      '1..2.3',
      '1.2.3.4.',
      '.1.2.3.4',
      '01.2.3.4',
      '1.2.3.0004',
      '1.2.3.4 ',
      '0x7f.0.0.1',
      '2130706433',
    ]) {
      expect(parseIpv4(bad), bad).toBeUndefined()
    }
  })
})

describe('parseIpv6', () => {
  it('reads the RFC 4291 §2.2 forms', () => {
    expect(hex(parseIpv6('::'))).toBe('0'.repeat(32))
    expect(hex(parseIpv6('::1'))).toBe('0'.repeat(31) + '1')
    expect(hex(parseIpv6('2001:db8:0:0:0:0:0:1'))).toBe('20010db8' + '0'.repeat(23) + '1')
    expect(hex(parseIpv6('2001:DB8::1'))).toBe('20010db8' + '0'.repeat(23) + '1')
    expect(hex(parseIpv6('fe80::'))).toBe('fe80' + '0'.repeat(28))
    expect(hex(parseIpv6('::ffff:10.0.0.1'))).toBe('0'.repeat(20) + 'ffff0a000001')
    expect(hex(parseIpv6('64:ff9b::192.168.1.1'))).toBe('0064ff9b' + '0'.repeat(16) + 'c0a80101')
    expect(hex(parseIpv6('1:2:3:4:5:6:7::'))).toBe('0001000200030004000500060007' + '0000')
  })

  it('refuses malformed text', () => {
    for (const bad of [
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      '::1.2.3',
      '::1.2.3.4:5',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7:8::',
    ]) {
      expect(parseIpv6(bad), bad).toBeUndefined()
    }
  })
})

describe('parseCidr', () => {
  it('reads prefixes and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ family: 4, prefix: 8 })
    expect(parseCidr(' 192.168.1.7 ')).toMatchObject({ family: 4, prefix: 32 })
    expect(parseCidr('fc00::/7')).toMatchObject({ family: 6, prefix: 7 })
    expect(parseCidr('::1')).toMatchObject({ family: 6, prefix: 128 })
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ family: 4, prefix: 0 })
    expect(formatCidr(parseCidr('100.64.0.0/10'))).toBe('100.64.0.0/10')
    expect(formatCidr(parseCidr('2001:db8::/32'))).toBe('2001:db8:0:0:0:0:0:0/32')
  })

  it('throws InvalidCidrError (an InvalidInputError) with the reason', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.1/8', /bits past the prefix/],
      ['10.0.0.0/33', /0-32/],
      ['fc00::/129', /0-128/],
      ['10.0.0.0/', /0-32/],
      ['10.0.0.0/08', /0-32/],
      ['10.0.0.0/-1', /0-32/],
      ['10.0.0/8', /not an IP address/],
      ['example.com/24', /not an IP address/],
      ['', /not an IP address/],
    ]
    for (const [text, why] of cases) {
      const run = () => parseCidr(text)
      expect(run, text).toThrow(InvalidCidrError)
      expect(run, text).toThrow(InvalidInputError)
      expect(run, text).toThrow(why)
    }
    try {
      parseCidr('nope')
    } catch (e) {
      expect((e as Error).name).toBe('InvalidCidrError')
    }
  })
})

describe('cidrContains', () => {
  it('matches whole and partial bytes of the prefix', () => {
    const c12 = parseCidr('172.16.0.0/12')
    expect(cidrContains(c12, ip('172.16.0.0'))).toBe(true)
    expect(cidrContains(c12, ip('172.31.255.255'))).toBe(true)
    expect(cidrContains(c12, ip('172.15.255.255'))).toBe(false)
    expect(cidrContains(c12, ip('172.32.0.0'))).toBe(false)
    const c10 = parseCidr('100.64.0.0/10')
    expect(cidrContains(c10, ip('100.127.255.255'))).toBe(true)
    expect(cidrContains(c10, ip('100.128.0.0'))).toBe(false)
    expect(cidrContains(parseCidr('1.2.3.4'), ip('1.2.3.4'))).toBe(true)
    expect(cidrContains(parseCidr('1.2.3.4'), ip('1.2.3.5'))).toBe(false)
    expect(cidrContains(parseCidr('0.0.0.0/0'), ip('8.8.8.8'))).toBe(true)
  })

  it('matches IPv6 prefixes and never across families', () => {
    expect(cidrContains(parseCidr('fc00::/7'), ip('fd12:3456::1'))).toBe(true)
    expect(cidrContains(parseCidr('fc00::/7'), ip('fe00::1'))).toBe(false)
    expect(cidrContains(parseCidr('fe80::/10'), ip('febf:ffff::1'))).toBe(true)
    expect(cidrContains(parseCidr('fe80::/10'), ip('fec0::1'))).toBe(false)
    expect(cidrContains(parseCidr('::/0'), ip('10.0.0.1'))).toBe(false)
    expect(cidrContains(parseCidr('0.0.0.0/0'), ip('::ffff:10.0.0.1'))).toBe(false)
  })
})

describe('embeddedIpv4 and ipKey', () => {
  it('finds the IPv4 address of mapped and NAT64 addresses only', () => {
    expect(ipKey(embeddedIpv4(ip('::ffff:10.1.2.3'))!)).toBe('10.1.2.3')
    expect(ipKey(embeddedIpv4(ip('::ffff:a01:203'))!)).toBe('10.1.2.3')
    expect(ipKey(embeddedIpv4(ip('64:ff9b::169.254.169.254'))!)).toBe('169.254.169.254')
    expect(embeddedIpv4(ip('64:ff9b:1::10.0.0.1'))).toBeUndefined()
    expect(embeddedIpv4(ip('2001:db8::10.0.0.1'))).toBeUndefined()
    expect(embeddedIpv4(ip('10.0.0.1'))).toBeUndefined()
  })

  it('gives equal keys to equal addresses in different text forms', () => {
    expect(ipKey(ip('2001:db8::1'))).toBe(ipKey(ip('2001:0DB8:0:0:0:0:0:0001')))
    expect(ipKey(ip('::ffff:1.2.3.4'))).toBe(ipKey(ip('::ffff:102:304')))
    expect(ipKey(ip('1.2.3.4'))).not.toBe(ipKey(ip('::ffff:1.2.3.4')))
  })
})
