import { addressesInText } from './catalogue';

describe('addressesInText', () => {
  it('finds e-mail addresses, URLs and IBANs in prose, normalised', () => {
    const found = addressesInText(
      'Send it to Mark.Black-2024@Gmail.com and cc <alice@bluesparrowtech.com>; details at https://www.Example.com/a/b/. ' +
        'Pay GB29 NWBK 6016 1331 9268 19, see www.dora-website.com or notes.io/page.',
    );
    expect(found).toEqual(
      expect.arrayContaining([
        { kind: 'email', value: 'mark.black-2024@gmail.com' },
        { kind: 'email', value: 'alice@bluesparrowtech.com' },
        { kind: 'url', value: 'example.com/a/b' },
        { kind: 'url', value: 'dora-website.com' },
        { kind: 'url', value: 'notes.io/page' },
        { kind: 'iban', value: 'GB29NWBK60161331926819' },
      ]),
    );
    // An e-mail's domain is not also reported as a URL.
    expect(found.filter((t) => t.kind === 'url' && t.value.includes('gmail'))).toEqual([]);
  });

  it('does not invent addresses from plain words, version numbers or file names', () => {
    expect(addressesInText('Read bill-december-2023.txt and version 1.2.3, then reply @channel')).toEqual([]);
  });

  it('scans attacker-sized fields without backtracking blow-ups (these are correctness checks; a quadratic scan would hang)', () => {
    for (const s of ['a'.repeat(200_000), 'a-'.repeat(100_000), '@'.repeat(200_000), 'a@'.repeat(100_000), 'a.'.repeat(100_000)]) {
      expect(addressesInText(s)).toEqual([]);
    }
    // An address hidden behind a long run is still found (its local part cut to the 64 characters an address can have).
    const hidden = addressesInText('x'.repeat(100_000) + 'evil@attacker.com');
    expect(hidden).toEqual([{ kind: 'email', value: 'x'.repeat(60) + 'evil@attacker.com' }]);
  });
});
