// check.mjs parses SQL statements with independent parsers and reports every
// parse error with the statement's name and a line:col inside the statement.
//
// Input (stdin): a JSON array of {"parser", "dialect", "name", "sql"} where
// parser is "polyglot" (@polyglot-sql/sdk, a port of sqlglot) or
// "sql-parser-cst" (BigQuery only). Output (stdout): a JSON array of
// {"name", "parser", "dialect", "line", "col", "message"}, one per failed
// statement, in input order. The exit code is 0 even when statements fail
// (the caller decides); it is 2 when the input or a parser is unusable.
import { parse as polyglotParse } from '@polyglot-sql/sdk';
import { parse as cstParse } from 'sql-parser-cst';

const parsers = {
  polyglot(dialect, sql) {
    const r = polyglotParse(sql, dialect);
    if (r.success) return null;
    return { line: r.errorLine ?? 0, col: r.errorColumn ?? 0, message: String(r.error) };
  },
  'sql-parser-cst'(dialect, sql) {
    try {
      cstParse(sql, { dialect, includeRange: true, filename: 'stmt' });
      return null;
    } catch (e) {
      const msg = String(e && e.message ? e.message : e);
      const m = /--> stmt:(\d+):(\d+)/.exec(msg);
      return { line: m ? Number(m[1]) : 0, col: m ? Number(m[2]) : 0, message: msg.split('\n')[0] };
    }
  },
};

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const items = JSON.parse(await readStdin());
if (!Array.isArray(items)) {
  console.error('check.mjs: input must be a JSON array');
  process.exit(2);
}
const out = [];
for (const it of items) {
  const p = parsers[it.parser];
  if (!p) {
    console.error(`check.mjs: unknown parser ${JSON.stringify(it.parser)} (known: ${Object.keys(parsers).join(', ')})`);
    process.exit(2);
  }
  let err;
  try {
    err = p(it.dialect, it.sql);
  } catch (e) {
    err = { line: 0, col: 0, message: 'parser crashed: ' + String(e && e.message ? e.message : e) };
  }
  if (err) out.push({ name: it.name, parser: it.parser, dialect: it.dialect, ...err });
}
process.stdout.write(JSON.stringify(out));
