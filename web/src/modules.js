// The modules of the one sagebox server, one top-bar tab each. A module is one entry:
//   { id, label, load(): Promise<ctx> (once, before its first view; may be omitted),
//     status(ctx): text for the right of the sub-navigation,
//     views: [{ id, label, show({ main, params, navigate, ctx }), leave() (optional) }] }
// Its routes are `#/<module>/<view>?<params>`; the first view is the module's start page.
import { getJson } from './api.js';
import { endpointStatus, leaveEndpoint, loadEndpointModule, showEndpoint } from './endpoint.js';
import { Explorer } from './explorer.js';
import { labelStatus, leaveLabel, loadLabelModule, showLabel } from './label.js';
import { leavePipeline, loadPipelineModule, pipelineStatus, showPipeline } from './pipeline.js';
import { leaveRag, loadRagModule, ragStatus, showRag } from './rag.js';
import { destroyCharts } from './ui.js';
import { showBudgets, showFindings, showForecast, showReports, showSavingsPlans } from './views.js';

// The Explorer keeps its chart and controls between hash changes (e.g. a new filter).
let explorer = null;

const cost = {
  id: 'cost',
  label: 'Cost',
  load: () => getJson('/api/cost/meta'),
  status: (meta) => {
    const range = meta.data_range;
    return `${meta.store || ''} · ${range ? `${range.first} to ${range.last}` : 'empty store'} · ${meta.currency || ''} · v${meta.version || '?'}`;
  },
  views: [
    {
      id: 'explorer',
      label: 'Explorer',
      show({ main, params, navigate, ctx }) {
        if (!explorer) {
          destroyCharts();
          explorer = new Explorer(ctx, navigate);
          main.replaceChildren(explorer.root);
        }
        explorer.show(params);
      },
      leave() {
        explorer = null;
      },
    },
    { id: 'reports', label: 'Saved reports', show: ({ main, navigate }) => showReports(main, navigate) },
    { id: 'findings', label: 'Findings', show: ({ main }) => showFindings(main) },
    { id: 'forecast', label: 'Forecast', show: ({ main, params, navigate, ctx }) => showForecast(main, params, navigate, ctx) },
    { id: 'savings-plans', label: 'Savings Plans', show: ({ main, params, navigate }) => showSavingsPlans(main, params, navigate) },
    { id: 'budgets', label: 'Budgets', show: ({ main }) => showBudgets(main) },
  ],
};

// The models behind `sagebox endpoint serve`. load() asks /api/endpoint/endpoints only when
// the tab is opened; a server without an endpoint answers 404 and the tab says how to start one.
const endpoint = {
  id: 'endpoint',
  label: 'Endpoint',
  load: loadEndpointModule,
  status: endpointStatus,
  views: [{ id: 'models', label: 'Models', show: showEndpoint, leave: leaveEndpoint }],
};

// Questions over a knowledge base (`sagebox rag ingest`), answered with numbered sources.
// A server without the rag API answers 404 and the tab says so.
const rag = {
  id: 'rag',
  label: 'Ask',
  load: loadRagModule,
  status: ragStatus,
  views: [{ id: 'chat', label: 'Chat', show: showRag, leave: leaveRag }],
};

// Human feedback (`sagebox label`): projects, the annotator workspaces, review, batches and
// the manager's page. A server without the label API answers 404 and the tab says so.
const label = {
  id: 'label',
  label: 'Label',
  load: loadLabelModule,
  status: labelStatus,
  views: [{ id: 'projects', label: 'Projects', show: showLabel, leave: leaveLabel }],
};

// Pipelines (`sagebox pipeline run`): executions from the Step Functions API, the state
// machine drawn with each state's status, the candidates' runs and the best model per stage
// from the MLflow API. A server whose Step Functions API wants SigV4 (one with users): the
// tab says so.
const pipeline = {
  id: 'pipeline',
  label: 'Pipeline',
  load: loadPipelineModule,
  status: pipelineStatus,
  views: [{ id: 'executions', label: 'Executions', show: showPipeline, leave: leavePipeline }],
};

// Add a module here (and its API under /api/<id>/…); the top bar and router pick it up.
export const MODULES = [cost, endpoint, rag, label, pipeline];
export const DEFAULT_MODULE = MODULES[0];
