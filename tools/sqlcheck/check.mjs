// check.mjs parses SQL statements with independent parsers and reports every
// parse error with the statement's name and a line:col inside the statement.
//
// Input (stdin): a JSON array of {"parser", "dialect", "name", "sql"} where
// parser is "polyglot" (@polyglot-sql/sdk, a port of sqlglot) or
// "sql-parser-cst" (BigQuery only; it also reports what BigQuery refuses
// beyond its grammar: UNION without ALL or DISTINCT, DELETE or UPDATE
// without WHERE). polyglot items may also carry
// "functions": the upper-case names of functions the warehouse has (any
// other function that polyglot parses as a generic call is reported, since
// polyglot accepts unknown names), and "forbidLiterals": literal kinds the
// warehouse does not have (such as PostgreSQL's E'…' "escape_string"). Output (stdout): a JSON array of
// {"name", "parser", "dialect", "line", "col", "message"}, one per failed
// statement, in input order. The exit code is 0 even when statements fail
// (the caller decides); it is 2 when the input or a parser is unusable.
import { parse as polyglotParse } from '@polyglot-sql/sdk';
import { parse as cstParse } from 'sql-parser-cst';

// vet walks a polyglot AST for generic function calls outside the allowed
// names and for forbidden literal kinds; it returns the first problem.
function vet(node, it) {
  if (Array.isArray(node)) {
    for (const n of node) {
      const p = vet(n, it);
      if (p) return p;
    }
    return null;
  }
  if (!node || typeof node !== 'object') return null;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'function' && v && typeof v.name === 'string' && it.functions &&
        !it.functions.includes(v.name.toUpperCase())) {
      return `function ${v.name} is not a ${it.dialect} function (not in sqlcheck.Parsers' list)`;
    }
    if (k === 'literal_type' && it.forbidLiterals && it.forbidLiterals.includes(v)) {
      return `${v} literal does not exist in ${it.dialect}`;
    }
    const p = vet(v, it);
    if (p) return p;
  }
  return null;
}

// bigqueryRules walks a sql-parser-cst tree for statements the parser
// accepts but BigQuery refuses: a set operator without ALL or DISTINCT
// (UNION alone), and DELETE or UPDATE without WHERE. It returns the first
// problem's message and the offset where it starts.
function bigqueryRules(node) {
  if (Array.isArray(node)) {
    for (const n of node) {
      const p = bigqueryRules(n);
      if (p) return p;
    }
    return null;
  }
  if (!node || typeof node !== 'object') return null;
  const at = node.range ? node.range[0] : 0;
  if (node.type === 'compound_select_stmt' && node.operator && !Array.isArray(node.operator)) {
    return { at: node.operator.range ? node.operator.range[0] : at,
      message: `${node.operator.text} needs ALL or DISTINCT in BigQuery` };
  }
  if ((node.type === 'delete_stmt' || node.type === 'update_stmt') && Array.isArray(node.clauses) &&
      !node.clauses.some((c) => c.type === 'where_clause')) {
    return { at, message: `${node.type === 'delete_stmt' ? 'DELETE' : 'UPDATE'} must have a WHERE clause in BigQuery (WHERE TRUE for every row)` };
  }
  for (const v of Object.values(node)) {
    const p = bigqueryRules(v);
    if (p) return p;
  }
  return null;
}

// lineCol turns an offset in sql into a 1-based line and column.
function lineCol(sql, at) {
  const before = sql.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

const parsers = {
  polyglot(dialect, sql, it) {
    const r = polyglotParse(sql, dialect);
    if (!r.success) {
      return { line: r.errorLine ?? 0, col: r.errorColumn ?? 0, message: String(r.error) };
    }
    const problem = vet(r.ast, it);
    return problem ? { line: 0, col: 0, message: problem } : null;
  },
  'sql-parser-cst'(dialect, sql) {
    try {
      const cst = cstParse(sql, { dialect, includeRange: true, filename: 'stmt' });
      const problem = dialect === 'bigquery' ? bigqueryRules(cst) : null;
      return problem ? { ...lineCol(sql, problem.at), message: problem.message } : null;
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
    err = p(it.dialect, it.sql, it);
  } catch (e) {
    err = { line: 0, col: 0, message: 'parser crashed: ' + String(e && e.message ? e.message : e) };
  }
  if (err) out.push({ name: it.name, parser: it.parser, dialect: it.dialect, ...err });
}
process.stdout.write(JSON.stringify(out));
