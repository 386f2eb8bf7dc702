import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../src/core/html-to-text.js';

describe('htmlToText', () => {
  it('separates paragraphs and headings with a blank line', () => {
    expect(htmlToText('<h1>Title</h1><p>Hello</p><p>World</p>')).toBe('Title\n\nHello\n\nWorld');
  });

  it('turns <br> in every spelling into a line break', () => {
    expect(htmlToText('a<br>b<br/>c<br />d<BR>e')).toBe('a\nb\nc\nd\ne');
  });

  it('drops head, title, style, script and comments with their content', () => {
    const html =
      '<html><head><title>T</title><style>p { color: red }</style></head>' +
      '<body><script>alert("x")</script><!-- hidden --><p>Visible</p></body></html>';
    expect(htmlToText(html)).toBe('Visible');
  });

  it('keeps link targets after the link text', () => {
    expect(htmlToText('<p>Read <a href="https://example.com/post/1">the post</a>.</p>')).toBe(
      'Read the post (https://example.com/post/1).',
    );
    expect(htmlToText("<A HREF='https://example.com'>Site</A>")).toBe('Site (https://example.com)');
  });

  it('writes a link once when its text is its target or empty', () => {
    expect(htmlToText('<a href="https://example.com">https://example.com</a>')).toBe('https://example.com');
    expect(htmlToText('<a href="https://example.com"> </a>')).toBe('https://example.com');
  });

  it('writes list items as dashes', () => {
    expect(htmlToText('<p>Items:</p><ul><li>one</li><li><b>two</b></li></ul><p>after</p>')).toBe(
      'Items:\n\n- one\n- two\n\nafter',
    );
  });

  it('decodes named, decimal and hex entities once', () => {
    expect(htmlToText('<p>Tom &amp; Jerry &lt;3 &quot;q&quot; &#39;s&#39; &apos;a&apos; &#233; &#x1F600;</p>')).toBe(
      "Tom & Jerry <3 \"q\" 's' 'a' é 😀",
    );
    // The escaped form of an entity stays an entity: decoding is not repeated.
    expect(htmlToText('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
  });

  it('leaves invalid or unknown entities as they are', () => {
    expect(htmlToText('&#0; &#x110000; &bogus;')).toBe('&#0; &#x110000; &bogus;');
  });

  it('collapses runs of spaces and tabs and trims the result', () => {
    expect(htmlToText('  <p>   lots \t  of    spaces   </p>  ')).toBe('lots of spaces');
  });

  it('never leaves more than one blank line in a row', () => {
    expect(htmlToText('<p>a</p><p></p><div></div><p>b</p>')).toBe('a\n\nb');
  });

  it('treats line breaks in the HTML source as spaces', () => {
    expect(htmlToText('<p>\n  Hello\n  world\n</p>\n<p>again</p>')).toBe('Hello world\n\nagain');
  });

  it('keeps table cells apart and rows on their own lines', () => {
    expect(htmlToText('<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>')).toBe('a b\n\nc d');
  });

  it('decodes the named entities email HTML commonly uses', () => {
    expect(htmlToText('a &mdash; b &ndash; c&hellip; &ldquo;q&rdquo; &copy; &euro;5')).toBe('a — b – c… “q” © €5');
  });

  it('returns plain text unchanged and empty input as empty', () => {
    expect(htmlToText('just text')).toBe('just text');
    expect(htmlToText('')).toBe('');
  });

  it('reads the escaped output of an HTML template as the original text', () => {
    // What Liquid's HTML escaping produces for `<script>"Tom" & 'Jerry'</script>` in the data.
    expect(htmlToText('<p>&lt;script&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/script&gt;</p>')).toBe(
      `<script>"Tom" & 'Jerry'</script>`,
    );
  });
});
