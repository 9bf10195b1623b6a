// App-derived text (names, titles, paths, messages) put into Markdown, such as hovers and tree tooltips, so that it
// shows as the text it is: an app's `![](https://…)`, `[link](…)`, `<img>`, `**bold**` or backticks must not render.

/** Every ASCII punctuation character but "/", which starts no Markdown on its own (CommonMark lets each be escaped). */
const PUNCTUATION = /[!"#$%&'()*+,\-.:;<=>?@[\\\]^_`{|}~]/g;
/** Line breaks as CommonMark and editors count them: a blank line would end the paragraph (or the list item). */
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029]/g;

/**
 * `text` as literal inline Markdown: every punctuation character backslash-escaped, so no emphasis, link, image,
 * autolink (`https\://`, `www\.`, `a\@b`), HTML tag, entity or code span can start; line breaks become spaces.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(PUNCTUATION, (c) => `\\${c}`);
}

/**
 * `text` as an inline code span, whose content Markdown shows verbatim: the fence is longer than any run of
 * backticks inside, and padded when the text starts or ends with one (or with a space on both sides, which a code
 * span would strip). Line breaks become spaces.
 */
export function markdownCode(text: string): string {
  const flat = text.replace(LINE_BREAKS, ' ');
  if (flat === '') return '` `';
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || (flat.startsWith(' ') && flat.endsWith(' ') && flat.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
