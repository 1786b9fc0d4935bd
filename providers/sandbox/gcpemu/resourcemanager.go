package gcpemu

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/resourcemanager/apiv3/resourcemanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// rmPageSize is the most a Resource Manager page holds here, whatever the
// caller asks: the service may answer fewer than asked, and a small page
// makes callers follow the tokens.
const rmPageSize = 20

// projectsServer answers Resource Manager v3's SearchProjects from the
// estate's organisation; every other method answers Unimplemented.
type projectsServer struct {
	resourcemanagerpb.UnimplementedProjectsServer
	s *Server
}

// foldersServer answers ListFolders.
type foldersServer struct {
	resourcemanagerpb.UnimplementedFoldersServer
	s *Server
}

// parentQuery is the one query form served: projects right under a
// folder or the organisation. Search keys are case-insensitive.
var parentQuery = regexp.MustCompile(`(?i)^\s*parent\s*[:=]\s*((?:organizations|folders)/[0-9]+)\s*$`)

func (ps *projectsServer) SearchProjects(ctx context.Context, req *resourcemanagerpb.SearchProjectsRequest) (*resourcemanagerpb.SearchProjectsResponse, error) {
	s := ps.s
	if err := (&kmsServer{s: s}).gate(ctx, "resourcemanager.projects.search", ""); err != nil {
		return nil, err
	}
	org := s.org
	parent := ""
	if q := req.GetQuery(); q != "" {
		m := parentQuery.FindStringSubmatch(q)
		if m == nil {
			return nil, status.Errorf(codes.InvalidArgument, "Request contains an invalid argument: this sandbox serves the query parent:organizations/N or parent:folders/N, not %q", q)
		}
		parent = strings.ToLower(m[1])
	}
	var found []*resourcemanagerpb.Project
	// Search answers only the projects the caller may get: none at all
	// when it may get none, never a denial.
	if org != nil && !org.denies("resourcemanager.projects.get") {
		for _, p := range org.Projects {
			if parent != "" && org.parentName(p.Parent) != parent {
				continue
			}
			found = append(found, s.project(org, p))
		}
	}
	from, to, next, err := rmPage(req.GetPageToken(), req.GetPageSize(), len(found))
	if err != nil {
		return nil, err
	}
	return &resourcemanagerpb.SearchProjectsResponse{Projects: found[from:to], NextPageToken: next}, nil
}

func (s *Server) project(org *Organization, p OrgProject) *resourcemanagerpb.Project {
	created := timestamppb.New(s.opts.Now.Add(-400 * 24 * time.Hour).Truncate(time.Second))
	out := &resourcemanagerpb.Project{
		Name:        "projects/" + strconv.FormatUint(projectNumber(p.ID), 10),
		Parent:      org.parentName(p.Parent),
		ProjectId:   p.ID,
		DisplayName: p.ID,
		State:       resourcemanagerpb.Project_ACTIVE,
		CreateTime:  created,
		UpdateTime:  created,
		Etag:        `W/"` + strconv.FormatUint(projectNumber(p.ID)%99991, 16) + `"`,
	}
	if p.Status == "DELETE_REQUESTED" {
		out.State = resourcemanagerpb.Project_DELETE_REQUESTED
		out.DeleteTime = timestamppb.New(s.opts.Now.Add(-24 * time.Hour).Truncate(time.Second))
	}
	return out
}

func (fs *foldersServer) ListFolders(ctx context.Context, req *resourcemanagerpb.ListFoldersRequest) (*resourcemanagerpb.ListFoldersResponse, error) {
	s := fs.s
	if err := (&kmsServer{s: s}).gate(ctx, "resourcemanager.folders.list", ""); err != nil {
		return nil, err
	}
	org := s.org
	parent := req.GetParent()
	if org == nil || !org.knows(parent) || org.denies("resourcemanager.folders.list") {
		// The service does not tell a missing parent from a forbidden one.
		return nil, status.Errorf(codes.PermissionDenied, "Permission 'resourcemanager.folders.list' denied on resource '%s' (or it may not exist).", parent)
	}
	var found []*resourcemanagerpb.Folder
	created := timestamppb.New(s.opts.Now.Add(-400 * 24 * time.Hour).Truncate(time.Second))
	for _, f := range org.Folders {
		if org.parentName(f.Parent) != parent {
			continue
		}
		found = append(found, &resourcemanagerpb.Folder{Name: "folders/" + f.ID, Parent: parent,
			DisplayName: orDefault(f.Name, f.ID), State: resourcemanagerpb.Folder_ACTIVE, CreateTime: created, UpdateTime: created})
	}
	from, to, next, err := rmPage(req.GetPageToken(), req.GetPageSize(), len(found))
	if err != nil {
		return nil, err
	}
	return &resourcemanagerpb.ListFoldersResponse{Folders: found[from:to], NextPageToken: next}, nil
}

// rmPage cuts a page of n results: the token is an offset.
func rmPage(token string, size int32, n int) (from, to int, next string, err error) {
	if size < 0 {
		return 0, 0, "", status.Error(codes.InvalidArgument, "Request contains an invalid argument: page_size is negative")
	}
	if size == 0 || size > rmPageSize {
		size = rmPageSize
	}
	if token != "" {
		from, err = strconv.Atoi(token)
		if err != nil || from <= 0 || from >= n {
			return 0, 0, "", status.Error(codes.InvalidArgument, "Request contains an invalid argument: page_token")
		}
	}
	to = min(n, from+int(size))
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}
