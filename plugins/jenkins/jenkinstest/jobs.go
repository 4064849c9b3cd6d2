package jenkinstest

import (
	"crypto/subtle"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// queueItem is a Queue.WaitingItem.
type queueItem struct {
	id    int
	job   string // full name
	since time.Time
}

// color is the job's ball color: a job that never ran is "notbuilt" (builds
// stay in the queue here), a disabled one "disabled".
func color(j Job) string {
	if j.Disabled {
		return "disabled"
	}
	return "notbuilt"
}

// itemKind tells whether full is a job, a folder (a prefix of some job's full
// name) or nothing.
func (s *Server) itemKind(full string) (job bool, folder bool) {
	if _, ok := s.jobs[full]; ok {
		return true, false
	}
	for name := range s.jobs {
		if strings.HasPrefix(name, full+"/") {
			return false, true
		}
	}
	return false, false
}

// jobURL is the job's absolute URL: <root>job/F/job/NAME/.
func (x *exchange) jobURL(full string) string {
	u := x.rootURL()
	for _, seg := range strings.Split(full, "/") {
		u += "job/" + pathEscape(seg) + "/"
	}
	return u
}

// jobRoute dispatches /job/A/job/B/…: each step is ItemGroup.getItem, which
// hides an item the caller cannot read (404) unless the caller may discover
// it (403 "Please login to access job …").
func (s *Server) jobRoute(x *exchange, segs []string) {
	full := ""
	for len(segs) >= 2 && segs[0] == "job" {
		name := segs[1]
		if strings.Contains(name, "/") {
			x.notFound()
			return
		}
		next := name
		if full != "" {
			next = full + "/" + name
		}
		isJob, isFolder := s.itemKind(next)
		if !isJob && !isFolder {
			x.notFound()
			return
		}
		if !x.who.has(permItemRead) {
			if x.who.has(permItemDiscover) {
				x.denyMessage("Please login to access job " + name)
				return
			}
			x.notFound()
			return
		}
		full, segs = next, segs[2:]
		if isJob {
			s.jobAction(x, full, segs)
			return
		}
	}
	x.notFound() // folder pages and anything else are not emulated
}

// jobAction serves the job's own URLs.
func (s *Server) jobAction(x *exchange, full string, rest []string) {
	j := s.jobs[full]
	switch {
	case len(rest) == 0:
		x.html(http.StatusOK, "<!DOCTYPE html><html><head><title>"+html.EscapeString(full)+" [Jenkins]</title></head><body><h1>"+html.EscapeString(full)+"</h1></body></html>")
	case len(rest) == 1 && rest[0] == "build":
		s.doBuild(x, full, j)
	case len(rest) == 1 && rest[0] == "buildWithParameters":
		s.doBuildWithParameters(x, full, j)
	case len(rest) == 2 && rest[0] == "api" && rest[1] == "json":
		if x.jsonpForbidden() {
			return
		}
		x.apiJSON(object{
			{"_class", "hudson.model.FreeStyleProject"},
			{"buildable", !j.Disabled},
			{"color", color(j)},
			{"fullName", full},
			{"inQueue", s.inQueue(full)},
			{"name", shortName(full)},
			{"url", x.jobURL(full)},
		})
	default:
		x.notFound()
	}
}

func shortName(full string) string { return full[strings.LastIndexByte(full, '/')+1:] }

func (s *Server) inQueue(full string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.queue {
		if it.job == full {
			return true
		}
	}
	return false
}

// doBuild is ParameterizedJobMixIn.doBuild: not buildable → 409 first; a
// non-POST on a parameterized job shows the parameter form; then the
// token/permission/POST check; a parameterized job wants a submitted form.
func (s *Server) doBuild(x *exchange, full string, j Job) {
	if j.Disabled {
		x.stackTrace(http.StatusConflict, "java.io.IOException", full+" is not buildable")
		return
	}
	if j.Parameterized && x.r.Method != http.MethodPost {
		x.html(http.StatusOK, "<!DOCTYPE html><html><head><title>"+html.EscapeString(full)+" [Jenkins]</title></head><body>"+
			"<h1>"+html.EscapeString(shortName(full))+"</h1><p>This build requires parameters:</p>"+
			"<form method=\"post\" action=\"build?delay=0sec\" name=\"parameters\"><input type=\"submit\" value=\"Build\"></form></body></html>")
		return
	}
	if !s.checkBuildPermission(x, j) {
		return
	}
	if j.Parameterized {
		// ParametersDefinitionProperty._doBuild → req.getSubmittedForm().
		if v, _ := x.param("json"); v == "" {
			if x.hasParams() {
				x.sendError(http.StatusBadRequest, "This page expects a form submission")
			} else {
				x.sendError(http.StatusBadRequest, "Nothing is submitted")
			}
			return
		}
	}
	s.schedule(x, full)
}

// doBuildWithParameters is ParameterizedJobMixIn.doBuildWithParameters: the
// token/permission/POST check first, then 409 if not buildable, then 400 if
// the job has no parameters.
func (s *Server) doBuildWithParameters(x *exchange, full string, j Job) {
	if !s.checkBuildPermission(x, j) {
		return
	}
	if j.Disabled {
		x.stackTrace(http.StatusConflict, "java.io.IOException", full+" is not buildable!")
		return
	}
	if !j.Parameterized {
		x.stackTrace(http.StatusBadRequest, "java.io.IOException", full+" is not parameterized")
		return
	}
	s.schedule(x, full)
}

// checkBuildPermission is BuildAuthorizationToken.checkPermission: when the job
// has a token and the request has a token parameter, a match (constant time)
// is enough, whatever the method and whoever the caller, and a mismatch is an
// AccessDeniedException "Invalid token provided."; otherwise Item/Build is
// required and the method must be POST (405 Allow: POST otherwise). It
// reports whether the request may go on.
func (s *Server) checkBuildPermission(x *exchange, j Job) bool {
	if j.Token != "" {
		if provided, ok := x.param("token"); ok {
			if subtle.ConstantTimeCompare([]byte(provided), []byte(j.Token)) == 1 {
				return true
			}
			x.denyMessage("Invalid token provided.")
			return false
		}
	}
	if !x.who.has(permItemBuild) {
		x.denyPermission(permItemBuild)
		return false
	}
	if x.r.Method != http.MethodPost {
		x.requirePOST()
		return false
	}
	return true
}

// schedule queues a build and answers 201 with the queue item's absolute
// Location and an empty body (rsp.sendRedirect(SC_CREATED, …)).
func (s *Server) schedule(x *exchange, full string) {
	s.mu.Lock()
	s.queueSeq++
	id := s.queueSeq
	s.queue[id] = queueItem{id: id, job: full, since: time.Now()}
	s.builds[full]++
	s.mu.Unlock()
	x.w.Header().Set("Location", x.rootURL()+"queue/item/"+strconv.Itoa(id)+"/")
	x.w.WriteHeader(http.StatusCreated)
}

// queueRoute serves /queue/item/N/api/json. An item of a job the caller
// cannot read does not exist for the caller.
func (s *Server) queueRoute(x *exchange, rest []string) {
	if len(rest) != 4 || rest[0] != "item" || rest[2] != "api" || rest[3] != "json" {
		x.notFound()
		return
	}
	id, err := strconv.Atoi(rest[1])
	if err != nil {
		x.notFound()
		return
	}
	s.mu.Lock()
	it, ok := s.queue[id]
	s.mu.Unlock()
	if !ok || !x.who.has(permItemRead) {
		x.notFound()
		return
	}
	if x.jsonpForbidden() {
		return
	}
	j := s.jobs[it.job]
	x.apiJSON(object{
		{"_class", "hudson.model.Queue$WaitingItem"},
		{"blocked", false},
		{"buildable", false},
		{"id", it.id},
		{"inQueueSince", it.since.UnixMilli()},
		{"params", ""},
		{"stuck", false},
		{"task", object{
			{"_class", "hudson.model.FreeStyleProject"},
			{"name", shortName(it.job)},
			{"url", x.jobURL(it.job)},
			{"color", color(j)},
		}},
		{"url", "queue/item/" + strconv.Itoa(it.id) + "/"},
	})
}

// buildByToken is the Build Authorization Token Root plugin's BuildRootAction
// (an UnprotectedRootAction with its own CrumbExclusion): the job is looked up
// as SYSTEM, so no Overall/Read or Job/Read is needed; an unknown job or a job
// without a token is a bare 404, so as not to leak job names. Then
// BuildAuthorizationToken.checkPermission applies as on /job/…/build: a
// matching token is enough, a wrong one is "Invalid token provided.", and
// without a token the caller needs Item/Build and POST.
func (s *Server) buildByToken(x *exchange) {
	if len(x.segs) != 2 {
		x.notFound()
		return
	}
	action := x.segs[1]
	if action != "build" && action != "buildWithParameters" && action != "polling" {
		x.notFound()
		return
	}
	full, _ := x.param("job")
	j, ok := s.jobs[full]
	if !ok || j.Token == "" {
		x.status(http.StatusNotFound)
		return
	}
	if !s.checkBuildPermission(x, j) {
		return
	}
	if j.Disabled {
		x.stackTrace(http.StatusBadRequest, "java.io.IOException", full+" is not buildable")
		return
	}
	switch action {
	case "build":
		if j.Parameterized {
			x.stackTrace(http.StatusBadRequest, "java.lang.Exception", "Use /buildByToken/buildWithParameters for this job since it takes parameters")
			return
		}
	case "buildWithParameters":
		if !j.Parameterized {
			x.stackTrace(http.StatusBadRequest, "java.lang.Exception", "Use /buildByToken/build for this job since it takes no parameters")
			return
		}
	case "polling":
		// The emulated jobs have no SCM trigger.
		x.stackTrace(http.StatusBadRequest, "java.io.IOException", full+" is not configured to poll")
		return
	}
	s.schedule(x, full)
}
