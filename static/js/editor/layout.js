// Top-down auto-layout with dagre: ranks follow the edges, ports in their order.
"use strict";

export function layout(graph, sizes) {
  const g = new dagre.graphlib.Graph({multigraph: true});  // eslint-disable-line no-undef
  g.setGraph({rankdir: "TB", nodesep: 50, ranksep: 70, edgesep: 20, marginx: 40, marginy: 40});
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const [width, height] = sizes[node.id] || [220, 90];
    g.setNode(node.id, {width, height: height + 20});
  }
  for (const edge of graph.edges) {
    if (g.hasNode(edge.from) && g.hasNode(edge.to)) g.setEdge(edge.from, edge.to, {}, edge.port ?? "next");
  }
  dagre.layout(g);  // eslint-disable-line no-undef
  const positions = {};
  for (const id of g.nodes()) {
    const box = g.node(id);
    positions[id] = [Math.round(box.x - box.width / 2), Math.round(box.y - box.height / 2)];
  }
  return positions;
}
