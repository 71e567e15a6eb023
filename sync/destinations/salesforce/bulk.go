package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// jobPrefix starts the job IDs this destination hands to the engine.
const jobPrefix = "sfbulk:"

// bulkJob is what the engine keeps of a submitted batch (as its job ID):
// the ingest jobs, and what Submit learnt that Poll cannot rebuild from
// the batch — the Ids it looked up for removals, and removals it refused.
type bulkJob struct {
	Upsert  string         `json:"u,omitempty"` // the upsert (insert mode: insert) job
	Delete  string         `json:"d,omitempty"`
	IDs     map[int]string `json:"ids,omitempty"`
	Refused map[int]string `json:"x,omitempty"`
}

// jobRequest creates an ingest job.
type jobRequest struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName,omitempty"`
	ContentType         string `json:"contentType"`
	LineEnding          string `json:"lineEnding"`
}

// jobInfo is the part of an ingest job's info the destination reads.
type jobInfo struct {
	ID                     string `json:"id"`
	State                  string `json:"state"`
	ErrorMessage           string `json:"errorMessage"`
	NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int    `json:"numberRecordsFailed"`
}

// finished reports whether a job state is final.
func finished(state string) bool {
	return state == "JobComplete" || state == "Failed" || state == "Aborted"
}

// JobTiming polls every poll_interval and gives a job job_timeout.
func (d *Destination) JobTiming() (pollEvery, timeout time.Duration) { return d.poll, d.jobWait }

// Submit starts the batch's Bulk API 2.0 jobs: an upsert job for adds and
// changes, a delete job for removals (their Ids looked up first when
// unknown). Each job is created, its CSV uploaded and the job closed
// (UploadComplete), after which Salesforce processes it.
func (d *Destination) Submit(ctx context.Context, batch []destination.Record) (string, error) {
	if len(batch) > d.batchSize {
		return "", &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	p := d.plan(batch)
	job := bulkJob{IDs: map[int]string{}, Refused: map[int]string{}}
	var ids []string
	for _, i := range p.removals {
		id := batch[i].RemoteID
		if id == "" {
			var res destination.Result
			var err error
			if id, res, err = d.lookup(ctx, batch[i].Key); err != nil {
				return "", err
			}
			switch {
			case id != "":
				job.IDs[i] = id
			case res.Err != nil:
				job.Refused[i] = res.Err.Error()
			}
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	var err error
	if len(p.rows) > 0 {
		op := "upsert"
		if d.mode == "insert" {
			op = "insert"
		}
		if job.Upsert, err = d.runJob(ctx, op, p.header, p.rows); err != nil {
			return "", err
		}
	}
	if len(ids) > 0 {
		rows := make([][]string, len(ids))
		for j, id := range ids {
			rows[j] = []string{id}
		}
		if job.Delete, err = d.runJob(ctx, "delete", []string{"Id"}, rows); err != nil {
			return "", err
		}
	}
	b, _ := json.Marshal(job)
	return jobPrefix + string(b), nil
}

// runJob creates one ingest job, uploads its CSV and closes it. A failure
// after the job was created aborts it (best effort).
func (d *Destination) runJob(ctx context.Context, op string, header []string, rows [][]string) (string, error) {
	data, err := encodeCSV(header, rows)
	if err != nil {
		return "", &destination.BatchError{Err: d.errorf("encoding the %s CSV: %v", op, err)}
	}
	if len(data) > MaxBulkUpload {
		return "", &destination.BatchError{Err: d.errorf("the %s CSV is %d bytes, above the %d a Bulk API upload takes; lower batch_size",
			op, len(data), MaxBulkUpload)}
	}
	rq := jobRequest{Object: d.sobject, Operation: op, ContentType: "CSV", LineEnding: "LF"}
	if op == "upsert" {
		rq.ExternalIDFieldName = d.extField
	}
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodPost, Path: d.dataPath("/jobs/ingest"), JSON: rq})
	if err != nil {
		return "", err
	}
	var info jobInfo
	if err := resp.Decode(&info); err != nil || info.ID == "" {
		return "", &destination.BatchError{Err: d.errorf("creating a %s job: no job id in the answer", op), Retryable: true}
	}
	jobPath := d.dataPath("/jobs/ingest/" + info.ID)
	// the upload and the close are retried in place: the job is already
	// created, and a transient failure need not throw it away
	err = httpdest.Retry(ctx, 4, func() error {
		_, err := d.call(ctx, httpdest.Request{Method: http.MethodPut, Path: jobPath + "/batches", Body: data, ContentType: "text/csv"})
		return err
	})
	if err == nil {
		tries := 0
		err = httpdest.Retry(ctx, 4, func() error {
			tries++
			resp, err := d.call(ctx, httpdest.Request{Method: http.MethodPatch, Path: jobPath, JSON: map[string]string{"state": "UploadComplete"}})
			if err != nil && tries > 1 && resp != nil && resp.Status == http.StatusConflict && d.closed(ctx, jobPath) {
				return nil // an earlier attempt closed it; its answer was lost
			}
			return err
		})
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = d.call(actx, httpdest.Request{Method: http.MethodPatch, Path: jobPath, JSON: map[string]string{"state": "Aborted"}})
		return "", err
	}
	return info.ID, nil
}

// closed reports whether a job is past Open (its close went through).
func (d *Destination) closed(ctx context.Context, jobPath string) bool {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet, Path: jobPath})
	if err != nil {
		return false
	}
	var info jobInfo
	return resp.Decode(&info) == nil && info.State != "" && info.State != "Open" && info.State != "Aborted" && info.State != "Failed"
}

// decodeJob reads a job ID made by Submit.
func decodeJob(id string) (bulkJob, error) {
	var j bulkJob
	rest, ok := strings.CutPrefix(id, jobPrefix)
	if !ok || json.Unmarshal([]byte(rest), &j) != nil {
		return j, fmt.Errorf("job id %q was not made by a salesforce destination", id)
	}
	return j, nil
}

// Poll asks for the state of a batch's jobs and, once all are finished,
// reads their successful and failed results and maps them to the batch:
// upsert rows by their external ID, delete rows by their Id (Bulk API does
// not keep the upload's order).
func (d *Destination) Poll(ctx context.Context, jobID string, batch []destination.Record) ([]destination.Result, bool, error) {
	job, err := decodeJob(jobID)
	if err != nil {
		return nil, false, &destination.BatchError{Err: d.errorf("%v", err)}
	}
	infos := map[string]jobInfo{}
	for _, id := range []string{job.Upsert, job.Delete} {
		if id == "" {
			continue
		}
		info, err := d.jobState(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if !finished(info.State) {
			return nil, false, nil
		}
		infos[id] = info
	}
	p := d.plan(batch)
	out := make([]destination.Result, len(batch))
	for i, err := range p.rejected {
		out[i] = destination.Result{Err: err}
	}
	want := map[int]bool{}
	if job.Upsert != "" {
		for _, i := range p.upserts {
			want[i] = true
		}
		if err := d.jobResults(ctx, infos[job.Upsert], p, want, out, false); err != nil {
			return nil, false, err
		}
	}
	d.removalResults(batch, p, job, want, out)
	if job.Delete != "" {
		if err := d.jobResults(ctx, infos[job.Delete], p, want, out, true); err != nil {
			return nil, false, err
		}
	}
	receipts(batch, out)
	return out, true, nil
}

// removalResults settles the removals that were not sent (none held, or
// refused at lookup) and indexes the others by Id for the delete results.
func (d *Destination) removalResults(batch []destination.Record, p *bulkPlan, job bulkJob, want map[int]bool, out []destination.Result) {
	for _, i := range p.removals {
		id := batch[i].RemoteID
		if id == "" {
			id = job.IDs[i]
		}
		switch {
		case id != "" && job.Delete != "":
			p.idOf[id] = i
			want[i] = true
		case job.Refused[i] != "":
			out[i] = destination.Result{Err: errors.New(job.Refused[i])}
		default: // Salesforce holds no such record
			out[i] = destination.Result{Receipt: nothingToErase}
		}
	}
}

// jobState gets an ingest job's info.
func (d *Destination) jobState(ctx context.Context, id string) (jobInfo, error) {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet, Path: d.dataPath("/jobs/ingest/" + id)})
	if err != nil {
		return jobInfo{}, err
	}
	var info jobInfo
	if err := resp.Decode(&info); err != nil {
		return jobInfo{}, &destination.BatchError{Err: d.errorf("%v", err), Retryable: true}
	}
	return info, nil
}

// jobResults reads a finished job's successful and failed records into
// out; the records of want it does not report were not processed.
func (d *Destination) jobResults(ctx context.Context, info jobInfo, p *bulkPlan, want map[int]bool, out []destination.Result, deletion bool) error {
	for _, kind := range []string{"successfulResults", "failedResults"} {
		rows, err := d.resultCSV(ctx, info.ID, kind)
		if err != nil {
			return err
		}
		for _, row := range rows {
			i, ok := p.rowIndex(row, deletion, d.extField)
			if !ok || !want[i] {
				continue
			}
			delete(want, i)
			out[i] = d.bulkResult(kind, row, deletion)
		}
	}
	for i := range want {
		delete(want, i)
		out[i] = d.unprocessed(info)
	}
	return nil
}

// rowIndex finds the batch record of a results row: by the external ID
// column for upserts, by the Id column for deletions.
func (p *bulkPlan) rowIndex(row map[string]string, deletion bool, extField string) (int, bool) {
	if deletion {
		i, ok := p.idOf[row["Id"]]
		if !ok {
			i, ok = p.idOf[row["sf__Id"]]
		}
		return i, ok
	}
	v := row[extField]
	if i, ok := p.keys[v]; ok {
		return i, true
	}
	i, ok := p.lower[strings.ToLower(v)]
	return i, ok
}

// bulkResult maps one results row.
func (d *Destination) bulkResult(kind string, row map[string]string, deletion bool) destination.Result {
	if kind == "successfulResults" {
		if deletion {
			return destination.Result{Receipt: row["sf__Id"]}
		}
		return destination.Result{RemoteID: row["sf__Id"]}
	}
	code, msg := bulkError(row["sf__Error"])
	if deletion && code == "ENTITY_IS_DELETED" {
		return destination.Result{Receipt: nothingToErase}
	}
	if id, dup := d.duplicate(code, msg); dup {
		return destination.Result{RemoteID: id}
	}
	return destination.Result{Err: d.errorf("%s rejected the record: %s: %s", d.sobject, code, msg), Retryable: transientCodes[code]}
}

// unprocessed is the result of a record a finished job did not report: a
// failed job's message is a rejection, anything else is retried.
func (d *Destination) unprocessed(info jobInfo) destination.Result {
	if info.State == "Failed" {
		return destination.Result{Err: d.errorf("bulk job %s failed: %s", info.ID, info.ErrorMessage)}
	}
	return destination.Result{Err: d.errorf("bulk job %s (%s) did not process the record", info.ID, info.State), Retryable: true}
}

// resultCSV gets one of a finished job's results files.
func (d *Destination) resultCSV(ctx context.Context, id, kind string) ([]map[string]string, error) {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet, Path: d.dataPath("/jobs/ingest/" + id + "/" + kind + "/"),
		Header: http.Header{"Accept": {"text/csv"}}})
	if err != nil {
		return nil, err
	}
	rows, err := resultRows(resp.Body)
	if err != nil {
		return nil, &destination.BatchError{Err: d.errorf("%s of job %s: %v", kind, id, err), Retryable: true}
	}
	return rows, nil
}

// applyBulk submits the batch and polls until its jobs are done, for
// callers that do not handle jobs themselves.
func (d *Destination) applyBulk(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	id, err := d.Submit(ctx, batch)
	if err != nil {
		return nil, err
	}
	for {
		res, done, err := d.Poll(ctx, id, batch)
		wait := d.poll
		if err != nil {
			var be *destination.BatchError
			if errors.As(err, &be) && (be.Fatal || !be.Retryable) {
				return nil, err
			}
			if be != nil {
				wait = max(wait, be.RetryAfter)
			}
		} else if done {
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, &destination.BatchError{Retryable: true,
				Err: d.errorf("bulk jobs %s not finished: %v", strconv.Quote(id), ctx.Err())}
		case <-time.After(wait):
		}
	}
}
