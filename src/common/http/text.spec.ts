import { freeText, labelText, wholeNumber } from './text.js';

describe('text fields', () => {
  it('takes a label of printable text in any script, and refuses control characters', () => {
    expect(labelText(100).parse('ci-deployer für Zürich ✓')).toBe('ci-deployer für Zürich ✓');
    for (const bad of ['a\nb', 'a\u0000b', 'a\tb', '\u001b[31mred', 'a\u007fb', 'a\u0085b']) {
      expect(labelText(100).safeParse(bad).error?.issues[0].message).toBe('must not contain control characters (such as a newline, a tab or NUL)');
    }
  });

  it('takes free text over several lines, and refuses other control characters', () => {
    expect(freeText(500).parse('Nightly export\n\tsecond line\r\n')).toBe('Nightly export\n\tsecond line\r\n');
    for (const bad of ['a\u0000b', '\u001b[2J', 'bell\u0007']) {
      expect(freeText(500).safeParse(bad).error?.issues[0].message).toBe('must not contain control characters other than tabs and line breaks');
    }
    expect(freeText(5).safeParse('toolong').success).toBe(false);
  });

  it('reads a whole number written as text, with one message for every way it is wrong', () => {
    const limit = wholeNumber(1, 500);
    expect(['50', ' 7 ', '500'].map((text) => limit.parse(text))).toEqual([50, 7, 500]);
    for (const bad of ['abc', '1.5', '0', '501', '', 'Infinity']) {
      expect(limit.safeParse(bad).error?.issues.map((issue) => issue.message)).toEqual(['must be a whole number from 1 to 500']);
    }
  });
});
