// check.mjs: parse LogQL expressions with @grafana/lezer-logql (the grammar Grafana's own query
// editor uses; Apache-2.0) and report, for each, its syntax errors and the names it uses.
//
// Input (stdin): a JSON array of expression strings.
// Output (stdout): a JSON array, one object per expression, in order:
//   { "expr", "errors": [{"from","to","text"}],
//     "selectors": [{"name","op","value"}]  stream selector matchers,
//     "filters":   [names]                  label filter expressions after a pipe,
//     "unwrap":    [names], "grouping": [names] (by/without),
//     "parsers":   [names]                  json, logfmt, regexp, pattern, unpack }
// Exit status: 0 when it ran (whatever it found), 2 on bad input. The Go test
// (monitoring/logql_test.go) decides what is wrong.
import { parser } from '@grafana/lezer-logql';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
let exprs;
try {
  exprs = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!Array.isArray(exprs) || exprs.some((e) => typeof e !== 'string')) throw new Error('want an array of strings');
} catch (e) {
  process.stderr.write(`check.mjs: bad input: ${e.message}\n`);
  process.exit(2);
}

const unquote = (s) => {
  try { return JSON.parse(s); } catch { return s.slice(1, -1); }
};

const results = exprs.map((expr) => {
  const tree = parser.parse(expr);
  const out = { expr, errors: [], selectors: [], filters: [], unwrap: [], grouping: [], parsers: [] };
  const stack = [];
  tree.iterate({
    enter(node) {
      const name = node.type.name;
      const text = expr.slice(node.from, node.to);
      if (node.type.isError) out.errors.push({ from: node.from, to: node.to, text });
      if (name === 'Identifier') {
        const parent = stack[stack.length - 1];
        if (stack.includes('Selector') && parent === 'Matcher') {
          // filled in by the Matcher itself
        } else if (stack.includes('LabelFilter')) out.filters.push(text);
        else if (stack.includes('UnwrapExpr')) out.unwrap.push(text);
        else if (stack.includes('Grouping')) out.grouping.push(text);
      }
      if (name === 'Matcher' && stack.includes('Selector')) {
        const c = node.node;
        const id = c.getChild('Identifier');
        const str = c.getChild('String');
        const op = c.firstChild && id ? expr.slice(id.to, str ? str.from : node.to).trim() : '';
        out.selectors.push({
          name: id ? expr.slice(id.from, id.to) : '',
          op,
          value: str ? unquote(expr.slice(str.from, str.to)) : '',
        });
      }
      if (name === 'LabelParser' || name === 'JsonExpressionParser' || name === 'LogfmtParser' || name === 'LogfmtExpressionParser') {
        out.parsers.push(text.split(/\s/)[0]);
      }
      stack.push(name);
    },
    leave() {
      stack.pop();
    },
  });
  return out;
});
process.stdout.write(JSON.stringify(results));
