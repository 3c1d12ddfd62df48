import { useParams } from "react-router";

export default function AssetDetailPage() {
  const key = useParams()["*"] ?? "";
  return (
    <div className="page">
      <h1>{key}</h1>
    </div>
  );
}
