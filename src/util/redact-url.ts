// Owns hiding a URL's credentials in messages: everything between `//` and `@` becomes `***`.

export function redactedUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
