/**
 * Layering of src/ (see ARCHITECTURE.md). `npm run lint:deps`; runs in CI (.ci/run).
 *
 *   stage N (src/N-name)  imports only stages < N, plus codec, config/env, model, errors, observability
 *   codec, config/env, model, errors, observability  import no stage, no pipeline, no entry point
 *   pipeline              may import every stage, never an entry point
 *   entry/*               may import everything in src/; handlers/ are the thin Lambda entry points
 *   entry/object-lambda, entry/replay  import no other entry point (shared code lives in codec or a stage)
 *
 * Stage numbers 4 (baseline) and 6 (alert) are reserved; the rules below already cover them.
 */
const STAGES = ['1-decode', '2-classify', '3-lookup', '4-baseline', '5-rules', '6-alert', '7-encode', '8-deliver'];

const laterStages = STAGES.map((stage, i) => ({
  name: `stage-${stage}-imports-no-later-stage`,
  severity: 'error',
  comment: `${stage} may import only earlier stages (data flows 1 → 8)`,
  from: { path: `^src/${stage}/` },
  to: { path: `^src/(${STAGES.slice(i + 1).join('|') || 'none'})/` },
}));

module.exports = {
  forbidden: [
    ...laterStages,
    {
      name: 'stage-imports-no-pipeline-or-entry',
      severity: 'error',
      comment: 'a stage is called by the pipeline and entry points, never the other way round',
      from: { path: '^src/[1-8]-[a-z-]+/' },
      to: { path: '^src/(pipeline|entry)/' },
    },
    {
      name: 'neutral-imports-no-stage',
      severity: 'error',
      comment: 'codec, config helpers, model, errors and observability are below every stage',
      from: { path: '^src/(codec/|config/env\\.ts$|model\\.ts$|errors\\.ts$|observability/)' },
      to: { path: '^src/([1-8]-[a-z-]+|pipeline|entry)/' },
    },
    {
      name: 'pipeline-imports-no-entry',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/entry/' },
    },
    {
      name: 'object-lambda-and-replay-import-no-other-entry-point',
      severity: 'error',
      comment: 'the Object Lambda and replay cores share code through codec and the stages, never through another entry point',
      from: { path: '^src/entry/(object-lambda|replay)/' },
      to: { path: '^src/entry/', pathNot: '^src/entry/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/5-rules/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
