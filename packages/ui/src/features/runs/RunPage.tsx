import { useParams } from "react-router";

export default function RunPage() {
  const { id } = useParams();
  return (
    <div className="page">
      <h1>Run {id}</h1>
    </div>
  );
}
