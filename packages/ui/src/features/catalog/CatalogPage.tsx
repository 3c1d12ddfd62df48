export default function CatalogPage() {
  return (
    <div className="page">
      <h1>Catalog</h1>
    </div>
  );
}
