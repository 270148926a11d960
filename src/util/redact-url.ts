// Owns hiding a URL's credentials in messages: everything between `//` and `@` becomes `***`, and
// so does the value of a query parameter whose name says it is a secret (password, token, key…).

const SECRET_QUERY_VALUE = /([?&](?:\w*(?:password|passwd|pwd|token|secret|key)|auth\w*|sig|signature)=)[^&#]*/gi

export function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(SECRET_QUERY_VALUE, '$1***')
}
