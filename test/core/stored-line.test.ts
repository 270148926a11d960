import { describe, expect, it } from 'vitest'
import { signJsonLine } from '../../src/core/canonical-json.js'
import { renderCefLine } from '../../src/core/cef.js'
import { createSigner } from '../../src/core/signing.js'
import { eventOfStoredLine, eventTypeOf } from '../../src/core/stored-line.js'
import { testPrivateKey, V1, V1_EVENT, V2, V2_EVENT } from '../fixtures/vectors.js'
import { authenticationEvent, authorizationEvent, gatewayAccessEvent } from '../helpers/events.js'

const signer = createSigner(testPrivateKey())
const bytesOf = (text: string) => Buffer.from(text, 'utf8')

describe('eventOfStoredLine', () => {
  it('reads the Appendix A JSON lines back into their events, trace_id digits intact', () => {
    expect(eventOfStoredLine(bytesOf(V1.json))).toEqual(V1_EVENT)
    expect(eventOfStoredLine(bytesOf(V2.json))).toEqual(V2_EVENT)
    expect(eventOfStoredLine(bytesOf(V2.json)).trace_id).toBe('9007199254740993')
  })

  it('renders the Appendix A CEF lines byte for byte from the stored JSON lines', () => {
    for (const vector of [V1, V2]) {
      const cef = renderCefLine(eventOfStoredLine(bytesOf(vector.json)), signer)
      expect(Buffer.from(cef, 'utf8').equals(bytesOf(vector.cef))).toBe(true)
    }
  })

  it('round-trips every event type, including the largest trace_id', () => {
    for (const event of [authenticationEvent(), authorizationEvent(), gatewayAccessEvent()]) {
      const read = eventOfStoredLine(bytesOf(signJsonLine(event, signer)))
      expect(read).toEqual(event)
      expect(read.trace_id).toBe('18446744073709551615')
    }
  })

  it('reads a line that is a view into a larger buffer', () => {
    const padded = bytesOf(`xx${V1.json}yy`)
    expect(eventOfStoredLine(padded.subarray(2, padded.length - 2))).toEqual(V1_EVENT)
  })

  it('rejects lines that are not one object of a known type', () => {
    expect(() => eventOfStoredLine(bytesOf(`${V1.json} `))).toThrow(TypeError)
    expect(() => eventOfStoredLine(bytesOf('{"name":"Other","event_class_id":"x","trace_id":1}'))).toThrow(
      /no known event type/,
    )
    expect(() => eventOfStoredLine(bytesOf('{"name":"Authz.x","event_class_id":"x","trace_id":-1}'))).toThrow(
      RangeError,
    )
  })
})

describe('eventTypeOf', () => {
  it('derives the type from name and event_class_id (SPEC.md §3.1)', () => {
    expect(eventTypeOf('AUTHENTICATION_OUTCOME_SUCCESS', 'AUTHENTICATION_TYPE_PAT')).toBe('authentication')
    expect(eventTypeOf('Authz.reports|daily', 'reports')).toBe('authorization')
    expect(eventTypeOf('Ingress', 'KongGateway')).toBe('gateway_access')
    expect(eventTypeOf('Ingress', 'konnect-audit')).toBeNull()
    expect(eventTypeOf('AUTHENTICATION_OUTCOME_SUCCESS', 'konnect-audit')).toBeNull()
    expect(eventTypeOf(undefined, 'KongGateway')).toBeNull()
  })
})
