package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// BenchmarkAttachment50MB measures, interleaved in one run against one real
// Prosody, for the same 50 MB of bytes:
//
//	put-plain:     PUT of the bytes to a fresh XEP-0363 slot (the baseline)
//	upload-enc:    Session.Upload: slot, streaming AES-256-GCM, PUT, vault copy, message
//	upload-enc-nocopy: the same without the vault copy (UploadOptions.NoLocalCopy)
//	get-plain:     GET of the plain upload, written to a file and fsynced (baseline)
//	download-dec:  Session.Download: GET, streaming GCM verify+decrypt into the vault
//
// and reports each time and the two ratios. Size: ROUNDS_ATTACH_MB (default 50).
//
//	go test ./sync -run XXX -bench Attachment50MB -benchtime 5x -timeout 10m
func BenchmarkAttachment50MB(b *testing.B) {
	mb := 50
	if v, err := strconv.Atoi(os.Getenv("ROUNDS_ATTACH_MB")); err == nil && v > 0 {
		mb = v
	}
	size := int64(mb) << 20
	srv := testserver.StartT(b, testserver.Options{UploadSizeLimit: size + 1<<20}, "alice", "bob")
	alice := startDevice(b, srv, "alice", deviceOptions{})
	data := make([]byte, size)
	rand.Read(data)
	ctx := context.Background()
	svc, err := alice.session.uploadService(ctx)
	if err != nil {
		b.Fatal(err)
	}
	hc := alice.session.httpClient()
	plainFile := filepath.Join(b.TempDir(), "plain.bin")
	var tPut, tUp, tGet, tDown time.Duration
	var prevPut, prevUp, prevGet, prevDown time.Duration
	var allocUp, allocDown uint64
	var ms runtime.MemStats
	b.SetBytes(size)
	b.ResetTimer()
	var upRatios, upNCRatios, downRatios []float64
	var tUpNC, prevUpNC time.Duration
	for i := 0; i < b.N; i++ {
		var slot xmpp.UploadSlot
		var attID string
		putPlain := func() {
			t0 := time.Now()
			var err error
			slot, err = alice.session.currentClient().RequestUploadSlot(ctx, svc.JID, xmpp.NewID()+".bin", size, "application/octet-stream")
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPut, slot.PutURL, bytes.NewReader(data))
			req.ContentLength = size
			for k, v := range slot.PutHeaders {
				req.Header[k] = v
			}
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := hc.Do(req)
			if err != nil || resp.StatusCode/100 != 2 {
				b.Fatalf("plain PUT: %v %v", err, resp)
			}
			resp.Body.Close()
			tPut += time.Since(t0)
		}
		uploadNoCopy := func() {
			t0 := time.Now()
			if _, _, err := alice.session.UploadWith(ctx, srv.JID("bob"), bytes.NewReader(data),
				UploadOptions{Name: "scan.bin", Size: size, NoLocalCopy: true}); err != nil {
				b.Fatal(err)
			}
			tUpNC += time.Since(t0)
		}
		uploadEnc := func() {
			runtime.ReadMemStats(&ms)
			a0 := ms.TotalAlloc
			t0 := time.Now()
			_, att, err := alice.session.Upload(ctx, srv.JID("bob"), bytes.NewReader(data), "scan.bin", "application/octet-stream", size, nil)
			if err != nil {
				b.Fatal(err)
			}
			tUp += time.Since(t0)
			runtime.ReadMemStats(&ms)
			allocUp += ms.TotalAlloc - a0
			attID = att.ID
		}
		getPlain := func() {
			// Baseline GET into a file on the same disk, synced.
			t0 := time.Now()
			resp, err := hc.Get(slot.GetURL)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("plain GET: %v", err)
			}
			f, err := os.Create(plainFile)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			f.Sync()
			f.Close()
			tGet += time.Since(t0)
		}
		downloadDec := func() {
			runtime.ReadMemStats(&ms)
			a0 := ms.TotalAlloc
			t0 := time.Now()
			got, err := alice.session.Download(ctx, attID, nil)
			if err != nil {
				b.Fatal(err)
			}
			tDown += time.Since(t0)
			runtime.ReadMemStats(&ms)
			allocDown += ms.TotalAlloc - a0
			if got.Size != size {
				b.Fatalf("downloaded %d bytes", got.Size)
			}
		}
		// Alternate which goes first, so neither side always pays for what
		// the server (or the disk) is still doing after the previous one.
		if i%2 == 0 {
			putPlain()
			uploadEnc()
			uploadNoCopy()
			getPlain()
			downloadDec()
		} else {
			uploadNoCopy()
			uploadEnc()
			putPlain()
			downloadDec()
			getPlain()
		}
		dPut, dUp, dGet, dDown := tPut-prevPut, tUp-prevUp, tGet-prevGet, tDown-prevDown
		dUpNC := tUpNC - prevUpNC
		upRatios = append(upRatios, float64(dUp)/float64(dPut))
		upNCRatios = append(upNCRatios, float64(dUpNC)/float64(dPut))
		downRatios = append(downRatios, float64(dDown)/float64(dGet))
		// Per iteration, so a shared machine's noise is visible in -v output.
		b.Logf("iteration %d: put-plain %v upload-enc %v (%.2fx) upload-enc-nocopy %v (%.2fx) get-plain %v download-dec %v (%.2fx)",
			i, dPut, dUp, upRatios[i], dUpNC, upNCRatios[i], dGet, dDown, downRatios[i])
		prevPut, prevUp, prevGet, prevDown, prevUpNC = tPut, tUp, tGet, tDown, tUpNC
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(tPut.Seconds()*1000/n, "put-plain-ms")
	b.ReportMetric(tUp.Seconds()*1000/n, "upload-enc-ms")
	b.ReportMetric(tGet.Seconds()*1000/n, "get-plain-ms")
	b.ReportMetric(tDown.Seconds()*1000/n, "download-dec-ms")
	b.ReportMetric(float64(tUp)/float64(tPut), "upload-ratio")
	b.ReportMetric(float64(tDown)/float64(tGet), "download-ratio")
	b.ReportMetric(median(upRatios), "upload-ratio-median")
	b.ReportMetric(median(upNCRatios), "upload-nocopy-ratio-median")
	b.ReportMetric(tUpNC.Seconds()*1000/n, "upload-enc-nocopy-ms")
	b.ReportMetric(median(downRatios), "download-ratio-median")
	b.ReportMetric(float64(allocUp)/n/(1<<20), "upload-alloc-MiB")
	b.ReportMetric(float64(allocDown)/n/(1<<20), "download-alloc-MiB")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
