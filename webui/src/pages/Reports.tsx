// The Reports page (docs/webui.md). Being built: it only names itself for now.
export function ReportsPage({ parts }: { parts: string[] }) {
  void parts;
  return (
    <div class="page reports" data-testid="reports-page">
      <div class="page-head">
        <div>
          <h1>Reports</h1>
        </div>
      </div>
    </div>
  );
}
