/// The stylesheet every report page inlines. System fonts only: a web font would be a fetch.
public enum HTMLStyle {
    public static let css = """
        :root { --fg: #1f2430; --muted: #667085; --line: #e4e7ec; --bg: #f5f6f8; --card: #ffffff;
          --good: #067647; --good-bg: #dcfae6; --warn: #93370d; --warn-bg: #fef0c7; --bad: #b42318; --bad-bg: #fee4e2;
          --info: #175cd3; --info-bg: #d1e9ff; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg);
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1320px; margin: 0 auto; padding: 24px 20px 48px; }
        .page-header h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
        .subtitle { margin: 0 0 18px; color: var(--muted); }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px;
          margin: 0 0 18px; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); overflow-x: auto; }
        .card h2 { font-size: 16px; margin: 0 0 10px; }
        .note { color: var(--muted); margin: -4px 0 12px; font-size: 13px; }
        .empty { color: var(--muted); font-style: italic; margin: 6px 0; }
        .facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px 24px; margin: 0; }
        .facts dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
        .facts dd { margin: 2px 0 0; font-weight: 500; overflow-wrap: anywhere; }
        code, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; background: #fafbfc; }
        td.num, th.num { text-align: right; white-space: nowrap; }
        tbody tr:hover { background: #f9fafb; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
        .badge.good { color: var(--good); background: var(--good-bg); }
        .badge.warn { color: var(--warn); background: var(--warn-bg); }
        .badge.bad { color: var(--bad); background: var(--bad-bg); }
        .badge.info { color: var(--info); background: var(--info-bg); }
        .badge.neutral { color: var(--muted); background: var(--bg); }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
        .bad-text { color: var(--bad); }
        .warn-text { color: var(--warn); }
        .muted { color: var(--muted); }
        .best { font-weight: 700; color: var(--good); }
        table.compact { width: auto; }
        table.compact th, table.compact td { min-width: 84px; }
        table.summary { font-size: 13px; }
        table.summary td { white-space: nowrap; }
        table.summary th, table.summary td { padding: 6px 7px; }
        .ci { display: block; font-size: 11px; color: var(--muted); font-weight: 400; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 0 18px; align-items: start; }
        .charts .card { margin: 0 0 18px; }
        svg { display: block; max-width: 100%; height: auto; font-family: inherit; }
        svg text { fill: var(--fg); font-size: 11px; }
        svg .axis-label { fill: var(--muted); font-size: 12px; }
        svg .tick text { fill: var(--muted); }
        svg .grid { stroke: var(--line); stroke-width: 1; }
        svg .axis { stroke: #98a2b3; stroke-width: 1; }
        details summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
        details[open] summary { margin-bottom: 8px; }
        .answer { max-width: 420px; max-height: 6.5em; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
        .cells td { font-size: 12.5px; white-space: nowrap; }
        .cells .answer { min-width: 220px; }
        """
}
