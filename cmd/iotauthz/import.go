package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/iotauthz/iotauthz/plugin/config"
)

const importHelp = `
usage: iotauthz import --authorizer FILE [--authorizer FILE ...]
                       [--domain-configuration FILE ...] [--data-endpoint HOST ...]
                       [--cluster AUTHORIZER=CLUSTER ...] [--default-authorizer NAME]
                       [--region REGION] [--account-id ACCOUNT] [--output FILE]

Writes a plugin configuration (DESIGN contract 1) from what AWS IoT says about your authorizers,
so a fleet moves with the authorizers it has:

  aws iot describe-authorizer --authorizer-name tokens > tokens.json
  aws iot describe-domain-configuration --domain-configuration-name main > main.json
  iotauthz import --authorizer tokens.json --domain-configuration main.json \
    --cluster tokens=authorizer --output plugin.json

  --authorizer FILE    the JSON output of aws iot describe-authorizer ({"authorizerDescription":
                       {...}}), or the authorizerDescription object alone. Repeatable, one per
                       authorizer. Every field is carried over as is (the plugin accepts
                       authorizerArn, creationDate and lastModifiedDate and does not use them).
  --domain-configuration FILE
                       the JSON output of aws iot describe-domain-configuration. Repeatable, one
                       per domain. It becomes an entry of "domains", every field carried over as
                       is: the domain's default authorizer (which must be imported too),
                       allowAuthorizerOverride, applicationProtocol and status hold there as at
                       AWS. A domain iotauthz cannot serve (authenticationType AWS_X509,
                       AWS_SIGV4 or CUSTOM_AUTH_X509, or a serviceType other than DATA) is left
                       out with a note.
  --data-endpoint HOST another host name devices connect to, e.g. your iot:Data-ATS endpoint
                       (aws iot describe-endpoint --endpoint-type iot:Data-ATS). Repeatable. At
                       least one endpoint is needed, from here or a domain configuration.
  --cluster AUTHORIZER=CLUSTER
                       call authorizer AUTHORIZER on the Envoy cluster CLUSTER (an HTTP service
                       answering AWS's event, DESIGN contract 2) instead of its Lambda function:
                       authorizerFunctionArn is replaced by {"cluster": CLUSTER}. Without it an
                       authorizer keeps its authorizerFunctionArn and the plugin calls the Lambda
                       function (Envoy's aws_lambda filter, or iotauthz gateway's SDK call).
  --default-authorizer NAME
                       the authorizer used when a request names none and its domain has no
                       default of its own (AWS's account default, aws iot
                       describe-default-authorizer). It must be one of the imported authorizers.
  --region, --account-id
                       the region and account of the resource ARNs policies name. Default: those
                       of the authorizers' authorizerArn (which must agree).
  --output FILE        write the configuration there instead of stdout.

The configuration is validated as the plugin validates it before it is written; anything the
plugin would refuse is an error (exit 1). Differences the plugin does not reproduce are printed
on stderr as notes, e.g. a domain configuration left out. Usage errors exit 2.
`

func init() {
	register("import", "write a plugin configuration from aws iot describe-authorizer / describe-domain-configuration output", runImport)
}

// importedAuthorizer is one entry of "authorizers", in the order AWS's DescribeAuthorizer
// prints its fields.
type importedAuthorizer struct {
	AuthorizerName         string            `json:"authorizerName"`
	AuthorizerArn          string            `json:"authorizerArn,omitempty"`
	AuthorizerFunctionArn  string            `json:"authorizerFunctionArn,omitempty"`
	AuthorizerFunction     *importedFunction `json:"authorizerFunction,omitempty"`
	TokenKeyName           string            `json:"tokenKeyName,omitempty"`
	TokenSigningPublicKeys map[string]string `json:"tokenSigningPublicKeys,omitempty"`
	Status                 string            `json:"status,omitempty"`
	CreationDate           json.RawMessage   `json:"creationDate,omitempty"`
	LastModifiedDate       json.RawMessage   `json:"lastModifiedDate,omitempty"`
	SigningDisabled        *bool             `json:"signingDisabled,omitempty"`
	EnableCachingForHTTP   *bool             `json:"enableCachingForHttp,omitempty"`
}

type importedFunction struct {
	Cluster string `json:"cluster"`
}

type importedConfig struct {
	Region                string                `json:"region"`
	AccountID             string                `json:"accountId"`
	DataEndpoints         []string              `json:"dataEndpoints,omitempty"`
	Domains               []*importedDomain     `json:"domains,omitempty"`
	DefaultAuthorizerName string                `json:"defaultAuthorizerName,omitempty"`
	Authorizers           []*importedAuthorizer `json:"authorizers"`
}

// describeAuthorizerFields are AuthorizerDescription's members
// (https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerDescription.html).
var describeAuthorizerFields = []string{"authorizerName", "authorizerArn", "authorizerFunctionArn", "tokenKeyName",
	"tokenSigningPublicKeys", "status", "creationDate", "lastModifiedDate", "signingDisabled", "enableCachingForHttp"}

// importedDomain is one entry of "domains": DescribeDomainConfiguration's response, its members
// in the order the API reference lists them, carried over as is
// (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeDomainConfiguration.html).
type importedDomain struct {
	DomainConfigurationName   json.RawMessage `json:"domainConfigurationName,omitempty"`
	DomainConfigurationArn    json.RawMessage `json:"domainConfigurationArn,omitempty"`
	DomainName                json.RawMessage `json:"domainName"`
	ServerCertificates        json.RawMessage `json:"serverCertificates,omitempty"`
	AuthorizerConfig          json.RawMessage `json:"authorizerConfig,omitempty"`
	DomainConfigurationStatus json.RawMessage `json:"domainConfigurationStatus,omitempty"`
	ServiceType               json.RawMessage `json:"serviceType,omitempty"`
	DomainType                json.RawMessage `json:"domainType,omitempty"`
	LastStatusChangeDate      json.RawMessage `json:"lastStatusChangeDate,omitempty"`
	TLSConfig                 json.RawMessage `json:"tlsConfig,omitempty"`
	ServerCertificateConfig   json.RawMessage `json:"serverCertificateConfig,omitempty"`
	AuthenticationType        json.RawMessage `json:"authenticationType,omitempty"`
	ApplicationProtocol       json.RawMessage `json:"applicationProtocol,omitempty"`
	ClientCertificateConfig   json.RawMessage `json:"clientCertificateConfig,omitempty"`
}

// describedDomain is a domain configuration read from a file: what is carried over, and the
// members import reads.
type describedDomain struct {
	importedDomain
	name, status, serviceType, authType, defaultAuth string
}

// describeDomainFields are DescribeDomainConfiguration's response members.
var describeDomainFields = []string{"domainConfigurationName", "domainConfigurationArn", "domainName", "serverCertificates",
	"authorizerConfig", "domainConfigurationStatus", "serviceType", "domainType", "lastStatusChangeDate", "tlsConfig",
	"serverCertificateConfig", "authenticationType", "applicationProtocol", "clientCertificateConfig"}

func runImport(args []string, stdout, stderr io.Writer) int {
	const me = "iotauthz import"
	fs := newFlagSet("import", importHelp, stdout, stderr)
	var authFiles, domainFiles, endpoints, clusters multiFlag
	fs.Var(&authFiles, "authorizer", "`FILE`: aws iot describe-authorizer output (repeatable)")
	fs.Var(&domainFiles, "domain-configuration", "`FILE`: aws iot describe-domain-configuration output (repeatable)")
	fs.Var(&endpoints, "data-endpoint", "a `HOST` devices connect to (repeatable)")
	fs.Var(&clusters, "cluster", "`AUTHORIZER=CLUSTER`: call the authorizer on this Envoy cluster instead of its Lambda function (repeatable)")
	defaultAuth := fs.String("default-authorizer", "", "the default authorizer's `NAME`")
	region := fs.String("region", "", "the `REGION` of resource ARNs (default: the authorizers' ARNs')")
	account := fs.String("account-id", "", "the `ACCOUNT` of resource ARNs (default: the authorizers' ARNs')")
	output := fs.String("output", "", "write the configuration to `FILE` (default stdout)")
	if code := parseNoArgs(fs, args, stdout); code >= 0 {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: %s\nRun 'iotauthz import --help' for usage.\n", me, fmt.Sprintf(format, a...))
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "%s: %s\n", me, fmt.Sprintf(format, a...))
		return 1
	}
	note := func(format string, a ...any) { fmt.Fprintf(stderr, "%s: note: %s\n", me, fmt.Sprintf(format, a...)) }
	if len(authFiles) == 0 {
		return usageErr("no --authorizer FILE given (the output of aws iot describe-authorizer)")
	}

	clusterOf := map[string]string{}
	for _, c := range clusters {
		name, cl, ok := strings.Cut(c, "=")
		if !ok || name == "" || cl == "" {
			return usageErr("--cluster %q: want AUTHORIZER=CLUSTER, e.g. tokens=authorizer", c)
		}
		if _, dup := clusterOf[name]; dup {
			return usageErr("--cluster: authorizer %q given twice", name)
		}
		clusterOf[name] = cl
	}

	out := importedConfig{Region: *region, AccountID: *account, DataEndpoints: []string{}}
	var arnRegion, arnAccount, arnFrom string
	names := map[string]string{} // authorizer name → file
	for _, file := range authFiles {
		a, err := readDescribedAuthorizer(file, note)
		if err != nil {
			return fail("%s: %v", file, err)
		}
		if prev, dup := names[a.AuthorizerName]; dup {
			return fail("%s: authorizer %q is also in %s", file, a.AuthorizerName, prev)
		}
		names[a.AuthorizerName] = file
		if a.AuthorizerArn != "" {
			r, acct, _, err := config.ParseAuthorizerARN(a.AuthorizerArn)
			if err != nil {
				return fail("%s: %v", file, err)
			}
			switch {
			case arnFrom == "":
				arnRegion, arnAccount, arnFrom = r, acct, file
			case r != arnRegion || acct != arnAccount:
				if *region == "" || *account == "" {
					return fail("%s: authorizerArn is in %s/%s, %s's in %s/%s; give --region and --account-id", file, r, acct, arnFrom, arnRegion, arnAccount)
				}
			}
		}
		if cl, ok := clusterOf[a.AuthorizerName]; ok {
			if a.AuthorizerFunctionArn != "" {
				note("authorizer %q: called on cluster %q instead of %s", a.AuthorizerName, cl, a.AuthorizerFunctionArn)
			}
			a.AuthorizerFunctionArn = ""
			a.AuthorizerFunction = &importedFunction{Cluster: cl}
			delete(clusterOf, a.AuthorizerName)
		}
		out.Authorizers = append(out.Authorizers, a)
	}
	if len(clusterOf) > 0 {
		left := make([]string, 0, len(clusterOf))
		for name := range clusterOf {
			left = append(left, name)
		}
		slices.Sort(left)
		return usageErr("--cluster %s=...: no imported authorizer is named %q", left[0], left[0])
	}
	if out.Region == "" {
		out.Region = arnRegion
	}
	if out.AccountID == "" {
		out.AccountID = arnAccount
	}
	if out.Region == "" || out.AccountID == "" {
		return usageErr("no authorizerArn to take the region and account from; give --region and --account-id")
	}

	domainFrom := map[string]string{} // lower-case domain name → file
	for _, file := range domainFiles {
		d, err := readDomainConfiguration(file, note)
		if err != nil {
			return fail("%s: %v", file, err)
		}
		switch {
		case d.authType == "AWS_X509" || d.authType == "AWS_SIGV4" || d.authType == "CUSTOM_AUTH_X509":
			note("%s: domain %q is left out: authenticationType %s is not a custom authorizer iotauthz can run (it serves CUSTOM_AUTH and DEFAULT)", file, d.name, d.authType)
			continue
		case d.serviceType != "" && d.serviceType != "DATA":
			note("%s: domain %q is left out: serviceType %s is not the data plane iotauthz authorizes", file, d.name, d.serviceType)
			continue
		}
		key := strings.ToLower(strings.TrimSuffix(d.name, "."))
		if prev, dup := domainFrom[key]; dup {
			return fail("%s: domain %q is also in %s", file, d.name, prev)
		}
		domainFrom[key] = file
		if n := d.defaultAuth; n != "" {
			if _, ok := names[n]; !ok {
				return fail("%s: the domain's default authorizer %q is not among the imported ones; add --authorizer with its describe-authorizer output", file, n)
			}
		}
		if d.status == "DISABLED" {
			note("%s: domain %q is DISABLED: the plugin refuses every connection to it, as AWS does", file, d.name)
		}
		out.Domains = append(out.Domains, &d.importedDomain)
	}
	for _, ep := range endpoints {
		if file, ok := domainFrom[strings.ToLower(strings.TrimSuffix(ep, "."))]; ok {
			note("--data-endpoint %s: left out, it is the domain of %s", ep, file)
			continue
		}
		out.DataEndpoints = append(out.DataEndpoints, ep)
	}
	slices.Sort(out.DataEndpoints)
	out.DataEndpoints = slices.Compact(out.DataEndpoints)
	if len(out.DataEndpoints) == 0 && len(out.Domains) == 0 {
		return usageErr("no data endpoint: give --data-endpoint HOST (aws iot describe-endpoint --endpoint-type iot:Data-ATS) or --domain-configuration FILE")
	}
	out.DefaultAuthorizerName = *defaultAuth
	if n := out.DefaultAuthorizerName; n != "" {
		if _, ok := names[n]; !ok {
			return fail("the default authorizer %q is not among the imported ones; add --authorizer with its describe-authorizer output", n)
		}
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fail("%v", err)
	}
	if _, err := config.Parse(buf.Bytes()); err != nil {
		return fail("the plugin would refuse the configuration: %v", err)
	}
	if *output == "" {
		stdout.Write(buf.Bytes())
		return 0
	}
	if err := os.WriteFile(*output, buf.Bytes(), 0o644); err != nil {
		return fail("%v", err)
	}
	return 0
}

// noteFunc prints a note on stderr.
type noteFunc func(format string, a ...any)

// readDescribedAuthorizer reads describe-authorizer's output, with or without its
// "authorizerDescription" wrapper; members that are not describe-authorizer's are noted and left out.
func readDescribedAuthorizer(file string, note noteFunc) (*importedAuthorizer, error) {
	a := &importedAuthorizer{}
	if err := readDescribed(file, "describe-authorizer", "authorizerDescription", describeAuthorizerFields, a, note); err != nil {
		return nil, err
	}
	if a.AuthorizerName == "" {
		return nil, fmt.Errorf("no authorizerName: not the output of aws iot describe-authorizer")
	}
	if a.AuthorizerFunctionArn == "" {
		return nil, fmt.Errorf("authorizer %s has no authorizerFunctionArn", strconv.Quote(a.AuthorizerName))
	}
	return a, nil
}

// readDomainConfiguration reads describe-domain-configuration's output: every member is carried
// over as is (the plugin checks them); members it does not have are noted and left out.
func readDomainConfiguration(file string, note noteFunc) (*describedDomain, error) {
	d := &describedDomain{}
	err := readDescribed(file, "describe-domain-configuration", "", describeDomainFields, &d.importedDomain, note)
	if err != nil {
		return nil, err
	}
	str := func(raw json.RawMessage, what string) (string, error) {
		var s string
		if len(raw) > 0 && json.Unmarshal(raw, &s) != nil {
			return "", fmt.Errorf("%s must be a string, got %s", what, raw)
		}
		return s, nil
	}
	if d.name, err = str(d.DomainName, "domainName"); err != nil {
		return nil, err
	}
	if d.name == "" {
		return nil, fmt.Errorf("no domainName: not the output of aws iot describe-domain-configuration")
	}
	if d.status, err = str(d.DomainConfigurationStatus, "domainConfigurationStatus"); err != nil {
		return nil, err
	}
	if d.serviceType, err = str(d.ServiceType, "serviceType"); err != nil {
		return nil, err
	}
	if d.authType, err = str(d.AuthenticationType, "authenticationType"); err != nil {
		return nil, err
	}
	if len(d.AuthorizerConfig) > 0 {
		var ac struct {
			DefaultAuthorizerName json.RawMessage `json:"defaultAuthorizerName"`
		}
		if json.Unmarshal(d.AuthorizerConfig, &ac) != nil {
			return nil, fmt.Errorf("authorizerConfig must be an object, got %s", d.AuthorizerConfig)
		}
		if d.defaultAuth, err = str(ac.DefaultAuthorizerName, "authorizerConfig.defaultAuthorizerName"); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// readDescribed reads the JSON object aws iot command printed to file, or its member wrapper
// when wrapper is its only member (wrapper "" for none). It decodes the members that are in
// fields (command's output members) into v; the others are noted and left out.
func readDescribed(file, command, wrapper string, fields []string, v any, note noteFunc) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		var te *json.UnmarshalTypeError
		switch {
		case err == nil:
			err = errors.New("got null")
		case errors.As(err, &te):
			err = fmt.Errorf("got %s", te.Value)
		}
		return fmt.Errorf("not the JSON output of aws iot %s (a JSON object): %v", command, err)
	}
	if inner, ok := top[wrapper]; ok && wrapper != "" && len(top) == 1 {
		top = nil
		if err := json.Unmarshal(inner, &top); err != nil || top == nil {
			return fmt.Errorf("%s is not an object", wrapper)
		}
	}
	known := make(map[string]json.RawMessage, len(top))
	var unknown []string
	for k, raw := range top {
		if slices.Contains(fields, k) {
			known[k] = raw
		} else {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		note("%s: field %q is not one of %s's; left out", file, k, command)
	}
	b, _ = json.Marshal(known)
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not the output of aws iot %s: %v", command, err)
	}
	return nil
}
