import { describe, expect, it } from 'vitest';
import { LogTail } from '../../shared/adapters/training/log-tail.js';
import { jobStateOf } from '../../shared/adapters/training/vertex.js';
import { jobNameOfLogEntry } from '../../shared/training/job-state.js';
import { runIdFor } from '../../shared/training/runs.js';

describe('training job helpers', () => {
  it('Vertex AI job states, by name or number, map to run states; non-terminal ones stay non-terminal', () => {
    expect(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_RUNNING', 'JOB_STATE_CANCELLING', 'JOB_STATE_QUEUED'].map(jobStateOf))
      .toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED', 'RUNNING', 'RUNNING', 'PENDING']);
    expect([4, 5, 7, 9, 3].map(jobStateOf)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED', 'RUNNING']);
    expect(jobStateOf('JOB_STATE_PARTIALLY_SUCCEEDED')).toBe('FAILED');
  });

  it('a job-state log entry names its CustomJob; other entries name none', () => {
    const e = { resource: { type: 'ml_job', labels: { job_id: '8812', project_id: 'p-123456', task_name: 'service' } } };
    expect(jobNameOfLogEntry(e, 'other-proj', 'europe-west4')).toBe('projects/p-123456/locations/europe-west4/customJobs/8812');
    expect(jobNameOfLogEntry({ resource: { type: 'gce_instance', labels: { job_id: '1' } } }, 'p', 'r')).toBeNull();
    expect(jobNameOfLogEntry({ resource: { type: 'ml_job', labels: { job_id: '../x' } } }, 'p', 'r')).toBeNull();
    expect(jobNameOfLogEntry('not json', 'p', 'r')).toBeNull();
  });

  it('the logs tail keeps the last lines, across chunk boundaries', () => {
    const t = new LogTail(3);
    for (const c of ['a\nb', 'c\nd\n', 'e\nf']) t.push(c);
    expect(t.text()).toBe('d\ne\nf');
  });

  it('run ids are stable per model and request, distinct across them, and usable as Vertex AI label values', () => {
    expect(runIdFor('flight_delay', 'k')).toBe(runIdFor('flight_delay', 'k'));
    expect(runIdFor('flight_delay', 'k')).not.toBe(runIdFor('flight_delay', 'k2'));
    expect(runIdFor('flight_delay', 'k')).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
  });
});
