package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/config"
)

// checkClusters is the gateway's start-up check that every cluster the plugin configuration
// calls is mapped by a --cluster flag (mapped: name to URL). Without it each request to that
// authorizer would fail closed at run time, silently for the operator. Lambda authorizers
// (authorizerFunctionArn) are called through the SDK and need no --cluster, nor do INACTIVE
// authorizers, which are never called. The error names each
// missing cluster and the authorizers that call it. A configuration that does not parse is left
// to the plugin, which reports it: checkClusters returns nil then.
func checkClusters(pluginConfig []byte, mapped map[string]string) error {
	c, err := config.Parse(pluginConfig)
	if err != nil {
		return nil
	}
	users := map[string][]string{} // unmapped cluster → authorizer names
	for name, a := range c.Authorizers {
		if a.Function != nil || a.Status == config.StatusInactive {
			continue // called through the SDK; or never called
		}
		if _, ok := mapped[a.Cluster]; !ok {
			users[a.Cluster] = append(users[a.Cluster], name)
		}
	}
	if len(users) == 0 {
		return nil
	}
	clusters := slices.Sorted(maps.Keys(users))
	var parts []string
	for _, cl := range clusters {
		names := users[cl]
		slices.Sort(names)
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = strconv.Quote(n)
		}
		parts = append(parts, fmt.Sprintf("cluster %q (authorizer %s)", cl, strings.Join(q, ", ")))
	}
	hint := "--cluster " + clusters[0] + "=http://HOST:PORT"
	return fmt.Errorf("the configuration calls %s, which no --cluster maps; add %s for each", strings.Join(parts, " and "), hint)
}
