// Small pieces the pages share: a table of data, a list of problems, a choice among options.
import type { ComponentChildren } from "preact";

/** A table with column headers; with `rowHeaders` the first cell of each row heads it. */
export function DataTable(props: { caption?: string; columns: string[]; rows: ComponentChildren[][]; rowHeaders?: boolean }) {
  return (
    <table class="grid">
      {props.caption && <caption>{props.caption}</caption>}
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((cells) => (
          <tr>{cells.map((c, i) => (i === 0 && props.rowHeaders ? <th scope="row">{c}</th> : <td>{c}</td>))}</tr>
        ))}
      </tbody>
    </table>
  );
}

/** What went wrong, as an alert: a sentence, then each problem. */
export function ProblemList({ title, problems }: { title: string; problems: string[] }) {
  return (
    <div class="alert" role="alert">
      <p>{title}</p>
      <ul>
        {problems.map((p) => (
          <li>{p}</li>
        ))}
      </ul>
    </div>
  );
}

/** A labelled select; `value` is the option chosen. */
export function Choice(props: { id: string; name: string; label: string; value: string | undefined; options: Array<[string, string]> }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        {props.options.map(([value, text]) => (
          <option value={value} selected={props.value === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}
