// The Search page (docs/webui.md). Being built: it only names itself for now.
export function SearchPage({ parts }: { parts: string[] }) {
  void parts;
  return (
    <div class="page search" data-testid="search-page">
      <div class="page-head">
        <div>
          <h1>Search</h1>
        </div>
      </div>
    </div>
  );
}
