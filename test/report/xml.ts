/**
 * A strict little XML 1.0 reader for the JUnit tests (no XML parser is installed): it throws on
 * anything not well-formed — unclosed or mismatched tags, unquoted or duplicate attributes, a raw
 * '<' or '&' where markup is not allowed, unknown entities, characters XML forbids (§2.2) — and
 * returns the element tree with entity references decoded.
 */
export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  text: string
}

const NAME = /^[A-Za-z_][\w.-]*/
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`raw '<' at ${where}`)
  return raw.replace(/&([^;]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`unterminated entity reference at ${where}`)
    const named: Record<string, string> = {lt: '<', gt: '>', amp: '&', quot: '"', apos: "'"}
    if (body in named) return named[body]
    if (/^#[0-9]+$/.test(body)) return String.fromCodePoint(Number(body.slice(1)))
    if (/^#x[0-9a-fA-F]+$/.test(body)) return String.fromCodePoint(parseInt(body.slice(2), 16))
    throw new Error(`unknown entity &${body}; at ${where}`)
  })
}

export function parseXml(xml: string): XmlElement {
  if (FORBIDDEN_CHAR.test(xml)) throw new Error('character not allowed in XML 1.0')
  let pos = 0
  const declaration = /^<\?xml[^?]*\?>\s*/.exec(xml)
  if (declaration) pos = declaration[0].length
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  while (pos < xml.length) {
    if (xml[pos] !== '<') {
      const end = xml.indexOf('<', pos)
      const raw = xml.slice(pos, end === -1 ? xml.length : end)
      if (stack.length === 0) {
        if (raw.trim() !== '') throw new Error(`text outside the root element at ${pos}`)
      } else {
        if (raw.includes('>') && raw.includes(']]>')) throw new Error(`']]>' in text at ${pos}`)
        stack[stack.length - 1].text += decode(raw, pos)
      }
      pos += raw.length
      continue
    }
    if (xml.startsWith('</', pos)) {
      const match = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(xml.slice(pos))
      const open = stack.pop()
      if (!match || !open || open.name !== match[1]) throw new Error(`mismatched end tag at ${pos}`)
      pos += match[0].length
      continue
    }
    pos++
    const name = NAME.exec(xml.slice(pos))
    if (!name) throw new Error(`bad tag name at ${pos}`)
    pos += name[0].length
    const element: XmlElement = {name: name[0], attributes: {}, children: [], text: ''}
    for (;;) {
      const space = /^\s*/.exec(xml.slice(pos))![0]
      pos += space.length
      if (xml.startsWith('/>', pos) || xml[pos] === '>') break
      if (space === '') throw new Error(`attributes must be separated by space at ${pos}`)
      const attribute = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(xml.slice(pos))
      if (!attribute) throw new Error(`bad attribute at ${pos}`)
      if (attribute[1] in element.attributes) throw new Error(`duplicate attribute ${attribute[1]} at ${pos}`)
      element.attributes[attribute[1]] = decode(attribute[3] ?? attribute[4], pos)
      pos += attribute[0].length
    }
    if (stack.length > 0) stack[stack.length - 1].children.push(element)
    else if (root) throw new Error(`second root element at ${pos}`)
    else root = element
    if (xml.startsWith('/>', pos)) pos += 2
    else {
      pos += 1
      stack.push(element)
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1].name}>`)
  if (!root) throw new Error('no root element')
  return root
}

/** Every element named `name` below `element`, depth first. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = []
  for (const child of element.children) {
    if (child.name === name) found.push(child)
    found.push(...findAll(child, name))
  }
  return found
}
