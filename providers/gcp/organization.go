package gcp

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	resourcemanager "cloud.google.com/go/resourcemanager/apiv3"
	"cloud.google.com/go/resourcemanager/apiv3/resourcemanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/reachaudit/reachaudit/providers"
)

// The Resource Manager calls discovery makes, named as the run's call
// counts and coverage name them, and the permission each needs (both are
// in roles/browser).
const (
	opSearchProjects = "resourcemanager.projects.search"
	opListFolders    = "resourcemanager.folders.list"
	permProjectsGet  = "resourcemanager.projects.get"
	sourceConfig     = "config"
)

// rmPageSize is the page asked of Resource Manager; it may answer fewer.
const rmPageSize = 500

// hierarchy holds the Resource Manager clients of a discovering provider.
type hierarchy struct {
	projects *resourcemanager.ProjectsClient
	folders  *resourcemanager.FoldersClient
}

// rmRetry retries the listing on the codes a busy or briefly unavailable
// service answers; SearchProjects has no retry of its own.
var rmRetry = gax.WithRetry(func() gax.Retryer {
	return gax.OnCodes([]codes.Code{codes.Unavailable, codes.ResourceExhausted},
		gax.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2})
})

func openHierarchy(ctx context.Context, cfg *Config, auth []option.ClientOption) (*hierarchy, error) {
	opts := append([]option.ClientOption{}, auth...)
	if cfg.ResourceManagerEndpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.ResourceManagerEndpoint))
		if cfg.Insecure {
			opts = append(opts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
		}
	}
	pc, err := resourcemanager.NewProjectsClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: Resource Manager client: %w", err)
	}
	fc, err := resourcemanager.NewFoldersClient(ctx, opts...)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("gcp: Resource Manager client: %w", err)
	}
	return &hierarchy{projects: pc, folders: fc}, nil
}

func (h *hierarchy) Close() error {
	if h == nil {
		return nil
	}
	return errors.Join(h.projects.Close(), h.folders.Close())
}

// roots are the configured organisation and folders as resource names.
func (c *Config) roots() []string {
	var out []string
	if c.Organization != "" {
		out = append(out, "organizations/"+strings.TrimPrefix(c.Organization, "organizations/"))
	}
	for _, f := range c.Folders {
		out = append(out, "folders/"+strings.TrimPrefix(f, "folders/"))
	}
	return out
}

// discoverProjects walks the hierarchy under the configured organisation
// and folders: the projects right under each node (SearchProjects with a
// parent: query) and its subfolders (ListFolders), breadth first. ACTIVE
// projects are audited, the others skipped and counted by state; the
// configured projects are added. SearchProjects answers only the projects
// the caller may get, never a denial, so finding no project at all is
// reported as the gap it most likely is.
func (p *provider) discoverProjects(ctx context.Context) ([]string, providers.Discovery, error) {
	d := providers.Discovery{Source: opSearchProjects, Skipped: map[string]int{}}
	roots := p.cfg.roots()
	found := map[string]bool{}
	seen := map[string]bool{}
	queue := append([]string(nil), roots...)
	for len(queue) > 0 {
		node := queue[0]
		queue = queue[1:]
		if seen[node] {
			continue // a configured folder below another configured node
		}
		seen[node] = true
		projects, err := p.projectsUnder(ctx, node)
		if err != nil {
			return nil, d, err
		}
		for _, pr := range projects {
			if pr.GetState() != resourcemanagerpb.Project_ACTIVE {
				d.Skipped[pr.GetState().String()]++
				continue
			}
			found[pr.GetProjectId()] = true
		}
		folders, err := p.foldersUnder(ctx, node)
		if err != nil {
			return nil, d, err
		}
		queue = append(queue, folders...)
	}
	if len(found) == 0 {
		return nil, d, &providers.APIError{API: opSearchProjects, Permission: permProjectsGet + " (roles/browser) on " + strings.Join(roots, ", "),
			Err: fmt.Errorf("gcp: found no ACTIVE project under %s (%d skipped): SearchProjects answers only the projects the caller may get",
				strings.Join(roots, ", "), sum(d.Skipped))}
	}
	for _, id := range p.cfg.Projects {
		found[id] = true
	}
	out := make([]string, 0, len(found))
	for id := range found {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, d, nil
}

func (p *provider) projectsUnder(ctx context.Context, parent string) ([]*resourcemanagerpb.Project, error) {
	return pages(ctx, p, opSearchProjects, permProjectsGet, parent, func(ctx context.Context, token string) ([]*resourcemanagerpb.Project, string, error) {
		it := p.rm.projects.SearchProjects(ctx, &resourcemanagerpb.SearchProjectsRequest{
			Query: "parent:" + parent, PageSize: rmPageSize, PageToken: token}, rmRetry)
		if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
			return nil, "", err
		}
		resp, _ := it.Response.(*resourcemanagerpb.SearchProjectsResponse)
		return resp.GetProjects(), resp.GetNextPageToken(), nil
	})
}

func (p *provider) foldersUnder(ctx context.Context, parent string) ([]string, error) {
	folders, err := pages(ctx, p, opListFolders, opListFolders, parent, func(ctx context.Context, token string) ([]*resourcemanagerpb.Folder, string, error) {
		it := p.rm.folders.ListFolders(ctx, &resourcemanagerpb.ListFoldersRequest{
			Parent: parent, PageSize: rmPageSize, PageToken: token}, rmRetry)
		if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
			return nil, "", err
		}
		resp, _ := it.Response.(*resourcemanagerpb.ListFoldersResponse)
		return resp.GetFolders(), resp.GetNextPageToken(), nil
	})
	out := make([]string, 0, len(folders))
	for _, f := range folders {
		if f.GetState() == resourcemanagerpb.Folder_ACTIVE {
			out = append(out, f.GetName())
		}
	}
	return out, err
}

// pages follows a listing's page tokens through providers.Paginate. Each
// page is one call (the iterator's first Next fetches one page, whose
// whole answer is then read), counted and bounded by the call timeout.
func pages[T any](ctx context.Context, p *provider, op, perm, parent string, fetch func(context.Context, string) ([]T, string, error)) ([]T, error) {
	type page struct {
		items []T
		next  string
	}
	var out []T
	err := providers.Paginate(ctx, op, func(ctx context.Context, token string) (string, error) {
		pg, err := providers.CallTimeout(ctx, p.env.Calls, op, p.cfg.timeout(), func(ctx context.Context) (page, error) {
			items, next, err := fetch(ctx, token)
			return page{items, next}, err
		})
		if err != nil {
			return "", err
		}
		out = append(out, pg.items...)
		return pg.next, nil
	})
	if err != nil {
		// A hierarchy read in part is not used: the projects it missed
		// would be silently out of the audit.
		return nil, &providers.APIError{API: op, Permission: grantFor(err, perm),
			Err: fmt.Errorf("gcp: discover the projects under %s: %s: %w", parent, op, explain(err, perm))}
	}
	return out, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
