import { useParams } from "react-router";

export default function BackfillPage() {
  const { id } = useParams();
  return (
    <div className="page">
      <h1>Backfill {id}</h1>
    </div>
  );
}
