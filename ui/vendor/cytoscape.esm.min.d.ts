// The page imports cytoscape as the server serves it (/ui/vendor/cytoscape.esm.min.js, from node_modules):
// for the type check (ui/tsconfig.json) that module is the package's own typings.
export { default } from 'cytoscape';
