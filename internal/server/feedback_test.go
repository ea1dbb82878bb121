package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/ragtune/ragtune/internal/store"
)

// feedbackFixture serves the fixture's project with feedback on, and
// returns a key with the admin scope too.
func feedbackFixture(t *testing.T, opts Options) (*fixture, string) {
	t.Helper()
	f := newFixture(t, opts)
	b := f.backend()
	b.Feedback, b.FeedbackRetention = f.p.Store(), 90*24*time.Hour
	ts := httptest.NewServer(New(b, opts).Handler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	admin, err := f.p.Store().CreateAPIKey(t.Context(), "root", []string{"read", "admin"})
	if err != nil {
		t.Fatal(err)
	}
	return f, admin
}

func interactions(t *testing.T, f *fixture) []store.Interaction {
	t.Helper()
	list, err := f.p.Store().Interactions(t.Context(), store.InteractionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestFeedbackOff: without feedback nothing is recorded, answers carry
// no interaction ID, and /v1/feedback says feedback is off.
func TestFeedbackOff(t *testing.T) {
	f := newFixture(t, Options{})
	admin, _ := f.p.Store().CreateAPIKey(t.Context(), "root", []string{"admin"})
	res, body := f.do(t, "POST", "/v1/ask", f.read, `{"question":"How often do signing keys rotate?"}`)
	if res.StatusCode != 200 || strings.Contains(body, "interaction_id") {
		t.Errorf("ask: %d %s", res.StatusCode, body)
	}
	sse := askSSE(t, f, f.read)
	if _, ok := sse["interaction_id"]; ok || sse["type"] != "done" {
		t.Errorf("done event %v", sse)
	}
	if _, body := f.do(t, "POST", "/v1/chat/completions", f.read, `{"messages":[{"role":"user","content":"When do backups run?"}]}`); strings.Contains(body, "interaction_id") {
		t.Errorf("chat completion: %s", body)
	}
	for _, tc := range []struct{ method, key, body string }{
		{"POST", f.read, `{"interaction_id":"fb_1","rating":"up"}`},
		{"GET", admin, ""},
	} {
		if res, body := f.do(t, tc.method, "/v1/feedback", tc.key, tc.body); res.StatusCode != 404 || !strings.Contains(body, "feedback is off") {
			t.Errorf("%s /v1/feedback: %d %s", tc.method, res.StatusCode, body)
		}
	}
	if list := interactions(t, f); len(list) != 0 {
		t.Errorf("recorded with feedback off: %+v", list)
	}
}

// askSSE asks over SSE and returns the done event.
func askSSE(t *testing.T, f *fixture, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", f.url+"/v1/ask?stream=true", strings.NewReader(`{"question":"When do backups run?","conversation_id":"conv-7"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		} else if data, ok := strings.CutPrefix(line, "data: "); ok && event == "done" {
			var ev map[string]any
			json.Unmarshal([]byte(data), &ev)
			return ev
		}
	}
	t.Fatal("the stream had no done event")
	return nil
}

// askWS asks over a WebSocket and returns the done event.
func askWS(t *testing.T, f *fixture, key string) map[string]any {
	t.Helper()
	ctx := t.Context()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/v1/ask/ws?access_token="+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := wsjson.Write(ctx, c, map[string]string{"question": "What is the capital of France?"}); err != nil {
		t.Fatal(err)
	}
	for {
		var ev map[string]any
		if err := wsjson.Read(ctx, c, &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] == "done" || ev["type"] == "error" {
			c.Close(websocket.StatusNormalClosure, "")
			return ev
		}
	}
}

// TestFeedbackRecordsAndRates: every way of asking records the
// interaction and returns its ID; the key that asked rates it, a new
// rating replaces the last, and an admin key lists them.
func TestFeedbackRecordsAndRates(t *testing.T) {
	f, admin := feedbackFixture(t, Options{})
	var ask struct {
		InteractionID string `json:"interaction_id"`
		Abstained     bool   `json:"abstained"`
	}
	_, body := f.do(t, "POST", "/v1/ask", f.read, `{"question":"How often do signing keys rotate?"}`)
	if json.Unmarshal([]byte(body), &ask); !strings.HasPrefix(ask.InteractionID, "fb_") || ask.Abstained {
		t.Fatalf("ask: %s", body)
	}
	ids := map[string]string{"json": ask.InteractionID}
	ids["sse"], _ = askSSE(t, f, f.read)["interaction_id"].(string)
	ids["websocket"], _ = askWS(t, f, f.read)["interaction_id"].(string)
	var chat struct {
		InteractionID string `json:"interaction_id"`
	}
	_, body = f.do(t, "POST", "/v1/chat/completions", f.read, `{"model":"ragtune","messages":[{"role":"user","content":"When do backups run?"}]}`)
	json.Unmarshal([]byte(body), &chat)
	ids["chat"] = chat.InteractionID
	recorded := map[string]store.Interaction{}
	for _, in := range interactions(t, f) {
		recorded[in.ID] = in
	}
	for how, id := range ids {
		// The declined question retrieves nothing; the others do.
		if in, ok := recorded[id]; !ok || in.KeyName != "reader" || (len(in.Retrieved) == 0) != (how == "websocket") || in.Generator == "" {
			t.Errorf("%s: interaction %q recorded as %+v", how, id, in)
		}
	}
	if len(recorded) != len(ids) {
		t.Errorf("%d interactions recorded for %d answers", len(recorded), len(ids))
	}
	if in := recorded[ids["json"]]; in.Question != "How often do signing keys rotate?" || len(in.Citations) == 0 || in.Citations[0].Doc != "ops/keys.md" {
		t.Errorf("the JSON answer was recorded as %+v", in)
	}
	if in := recorded[ids["sse"]]; in.ConversationID != "conv-7" || in.Answer == "" {
		t.Errorf("the streamed answer was recorded as %+v", in)
	}
	if in := recorded[ids["websocket"]]; !in.Abstained || in.AbstainReason == "" {
		t.Errorf("the declined answer was recorded as %+v", in)
	}

	rate := func(key, body string) (int, string) {
		res, b := f.do(t, "POST", "/v1/feedback", key, body)
		return res.StatusCode, b
	}
	if code, b := rate(f.read, `{"interaction_id":"`+ids["json"]+`","rating":"up"}`); code != 204 {
		t.Fatalf("rating up: %d %s", code, b)
	}
	if code, b := rate(f.read, `{"interaction_id":"`+ids["json"]+`","rating":"down","correction":" Every ninety days. ","comment":"too long"}`); code != 204 {
		t.Fatalf("rating down: %d %s", code, b)
	}
	if code, _ := rate(f.write, `{"interaction_id":"`+ids["json"]+`","rating":"up"}`); code != 404 {
		t.Errorf("another key rated the reader's answer: %d", code)
	}
	if res, _ := f.do(t, "GET", "/v1/feedback", f.read, ""); res.StatusCode != 403 {
		t.Errorf("a read key listed feedback: %d", res.StatusCode)
	}
	var list struct {
		Interactions []store.Interaction `json:"interactions"`
	}
	res, body := f.do(t, "GET", "/v1/feedback?rating=down&limit=10", admin, "")
	if json.Unmarshal([]byte(body), &list); res.StatusCode != 200 || len(list.Interactions) != 1 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	if got := list.Interactions[0]; got.ID != ids["json"] || got.Rating != store.Down || got.Correction != "Every ninety days." || got.Comment != "too long" {
		t.Errorf("listed %+v", got)
	}
	if !strings.Contains(body, `"rating":"down"`) {
		t.Errorf("the rating is not a word in the JSON: %s", body)
	}
	if res, _ := f.do(t, "GET", "/v1/feedback?limit=0", admin, ""); res.StatusCode != 400 {
		t.Errorf("limit 0: %d", res.StatusCode)
	}
}

// TestFeedbackBadInput: a bad rating is refused with a clear 4xx and
// leaves the earlier one as it was.
func TestFeedbackBadInput(t *testing.T) {
	f, _ := feedbackFixture(t, Options{MaxBody: 32 << 10})
	var ask struct {
		InteractionID string `json:"interaction_id"`
	}
	_, body := f.do(t, "POST", "/v1/ask", f.read, `{"question":"How often do signing keys rotate?"}`)
	json.Unmarshal([]byte(body), &ask)
	id := ask.InteractionID
	if res, b := f.do(t, "POST", "/v1/feedback", f.read, `{"interaction_id":"`+id+`","rating":"up","comment":"right"}`); res.StatusCode != 204 {
		t.Fatalf("rating: %d %s", res.StatusCode, b)
	}
	tests := []struct {
		name, body string
		code       int
		contains   string
	}{
		{"unknown id", `{"interaction_id":"fb_nope","rating":"down"}`, 404, "no interaction"},
		{"no id", `{"rating":"down"}`, 400, "interaction_id is missing"},
		{"bad rating", `{"interaction_id":"` + id + `","rating":"meh"}`, 400, "want up or down"},
		{"no rating", `{"interaction_id":"` + id + `","correction":"x"}`, 400, "want up or down"},
		{"unknown field", `{"interaction_id":"` + id + `","rating":"down","stars":1}`, 400, "unknown field"},
		{"long correction", `{"interaction_id":"` + id + `","rating":"down","correction":"` + strings.Repeat("a", 17<<10) + `"}`, 413, "the correction is"},
		{"long comment", `{"interaction_id":"` + id + `","rating":"down","comment":"` + strings.Repeat("a", 5<<10) + `"}`, 413, "the comment is"},
		{"oversized body", `{"interaction_id":"` + id + `","rating":"down","correction":"` + strings.Repeat("a", 40<<10) + `"}`, 413, "request body over"},
		{"malformed", `{"interaction_id":`, 400, "malformed JSON"},
	}
	for _, tc := range tests {
		res, b := f.do(t, "POST", "/v1/feedback", f.read, tc.body)
		if res.StatusCode != tc.code || !strings.Contains(b, tc.contains) {
			t.Errorf("%s: %d %s; want %d containing %q", tc.name, res.StatusCode, b, tc.code, tc.contains)
		}
	}
	list := interactions(t, f)
	if len(list) != 1 || list[0].Rating != store.Up || list[0].Comment != "right" || list[0].Correction != "" {
		t.Errorf("after bad ratings: %+v", list)
	}
	if _, b := f.do(t, "GET", "/metrics", "", ""); !strings.Contains(b, `ragtune_http_requests_total{route="POST /v1/feedback",status="400"} 5`) {
		t.Error("the feedback route's 400s are not counted")
	}
}
