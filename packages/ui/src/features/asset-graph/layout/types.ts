/** Sizes, in graph units (CSS pixels at zoom 1). */
export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 68;
export const GROUP_PADDING = 20;
export const GROUP_HEADER = 40;
export const COLLAPSED_WIDTH = 260;
export const COLLAPSED_HEIGHT = 84;
/** Bump when the layout changes shape: cached layouts of older versions are ignored. */
export const LAYOUT_VERSION = 3;

/** Lay out the assets of one group on their own (positions relative to the group's content). */
export interface GroupJob {
  readonly hash: string;
  readonly nodes: readonly string[];
  /** Edges inside the group, by node index. */
  readonly edges: readonly (readonly [number, number])[];
}

export interface GroupResult {
  readonly width: number;
  readonly height: number;
  /** [x, y] of each node's top-left corner, by node index in the job. */
  readonly positions: readonly (readonly [number, number])[];
  /** Which engine placed it ("elk" or "fast-layered"). */
  readonly engine: string;
}

/** Lay out the groups themselves (boxes of known sizes), with edges between groups. */
export interface GroupLevelJob {
  readonly hash: string;
  readonly groups: readonly { readonly width: number; readonly height: number }[];
  readonly edges: readonly (readonly [number, number])[];
}

export interface GroupLevelResult {
  readonly width: number;
  readonly height: number;
  readonly positions: readonly (readonly [number, number])[];
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface NodeBox extends Box {
  readonly key: string;
  readonly group: string;
}

export interface GroupBox extends Box {
  readonly name: string;
  readonly collapsed: boolean;
  readonly count: number;
}

/** The laid-out graph: absolute boxes for nodes (of expanded groups) and for every group. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, NodeBox>;
  readonly groups: ReadonlyMap<string, GroupBox>;
  /** Edges to draw, between node or collapsed-group boxes: [from box, to box, highlight keys]. */
  readonly edges: readonly LayoutEdge[];
  /** The same lineage between group boxes (drawn instead of node edges when zoomed far out). */
  readonly groupEdges: readonly LayoutEdge[];
}

export interface LayoutEdge {
  readonly from: Box;
  readonly to: Box;
  /** The asset keys at both ends (for highlighting); for collapsed groups, the group name. */
  readonly fromKey: string;
  readonly toKey: string;
}

/** The minimal ELK surface the engine needs (elkjs's `ELK#layout`). */
export interface ElkLike {
  layout(graph: ElkGraph): Promise<ElkGraph>;
}
export interface ElkGraph {
  id: string;
  layoutOptions?: Record<string, string>;
  children?: { id: string; width?: number; height?: number; x?: number; y?: number }[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
  width?: number;
  height?: number;
}
