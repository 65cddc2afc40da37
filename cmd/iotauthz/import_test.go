package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotauthz/iotauthz/internal/awssample"
	"github.com/iotauthz/iotauthz/plugin/config"
)

// describeAuthorizerOutput is aws iot describe-authorizer's output as the AWS CLI prints it
// (https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeAuthorizer.html).
func describeAuthorizerOutput(name, pubPEM string, signing bool) string {
	desc := map[string]any{
		"authorizerName":        name,
		"authorizerArn":         "arn:aws:iot:eu-west-1:210987654321:authorizer/" + name,
		"authorizerFunctionArn": "arn:aws:lambda:eu-west-1:210987654321:function:" + name + "-fn",
		"status":                "ACTIVE",
		"creationDate":          "2026-11-30T09:15:02.417000+00:00",
		"lastModifiedDate":      "2026-12-01T10:00:00+00:00",
		"signingDisabled":       !signing,
		"enableCachingForHttp":  true,
	}
	if signing {
		desc["tokenKeyName"] = "token"
		desc["tokenSigningPublicKeys"] = map[string]string{"key1": pubPEM}
	}
	b, _ := json.MarshalIndent(map[string]any{"authorizerDescription": desc}, "", "    ")
	return string(b)
}

// describeDomainOutput is aws iot describe-domain-configuration's output (awssample's) for
// IoT.Example.com, serving MQTT only, in the region and account of describeAuthorizerOutput's ARNs.
var describeDomainOutput = strings.NewReplacer("us-east-1:123456789012", "eu-west-1:210987654321",
	`"Devices.Example.com"`, `"IoT.Example.com"`, `"applicationProtocol": "DEFAULT"`, `"applicationProtocol": "SECURE_MQTT"`).Replace(awssample.DescribeDomainConfiguration)

// importInputs is a temporary directory for the describe-* outputs a test imports; tokens is
// describe-authorizer's output for authorizer "tokens" with the test's signing key.
type importInputs struct {
	dir, tokens string
}

func newImportInputs(t *testing.T) *importInputs {
	_, pubPath, _ := testKeys(t)
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	return &importInputs{dir: t.TempDir(), tokens: describeAuthorizerOutput("tokens", string(pub), true)}
}

// write writes text to the file name in the directory and returns its path.
func (in *importInputs) write(name, text string) string {
	p := filepath.Join(in.dir, name)
	os.WriteFile(p, []byte(text), 0o644)
	return p
}

func TestImport(t *testing.T) {
	in := newImportInputs(t)
	tokens := in.write("tokens.json", in.tokens)
	// The inner object alone, and a field AWS may add later.
	open := in.write("open.json", strings.Replace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(describeAuthorizerOutput("open", "", false)), `{
    "authorizerDescription": `), "}"), `"authorizerName"`, `"futureField": 1, "authorizerName"`, 1))
	domain := in.write("main.json", describeDomainOutput)
	outPath := filepath.Join(in.dir, "plugin.json")

	code, _, errs := runCLI(t, "import", "--authorizer", tokens, "--authorizer", open, "--domain-configuration", domain,
		"--data-endpoint", "abc123-ats.iot.eu-west-1.amazonaws.com", "--cluster", "open=authorizer", "--output", outPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{`field "futureField" is not one of describe-authorizer's`, `authorizer "open": called on cluster "authorizer" instead of arn:aws:lambda:eu-west-1:210987654321:function:open-fn`} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(b)
	if err != nil {
		t.Fatalf("the plugin refuses the imported configuration: %v\n%s", err, b)
	}
	if c.Region != "eu-west-1" || c.AccountID != "210987654321" || c.DefaultAuthorizerName != "" ||
		strings.Join(c.DataEndpoints, ",") != "abc123-ats.iot.eu-west-1.amazonaws.com,iot.example.com" {
		t.Errorf("config %+v", c)
	}
	// The domain configuration is a domain with its own default authorizer and override rule.
	if len(c.Domains) != 1 || *c.Domains[0] != (config.Domain{Name: "iot.example.com", ConfigurationName: "main",
		DefaultAuthorizerName: "tokens", AllowAuthorizerOverride: false, Protocols: config.ProtocolMQTT}) {
		t.Errorf("domains %+v", c.Domains)
	}
	tok, op := c.Authorizers["tokens"], c.Authorizers["open"]
	if tok == nil || tok.Function == nil || tok.Function.Name != "tokens-fn" || tok.TokenKeyName != "token" || len(tok.Keys) != 1 || !tok.EnableCachingForHTTP {
		t.Errorf("tokens %+v", tok)
	}
	if op == nil || op.Function != nil || op.Cluster != "authorizer" || !op.SigningDisabled {
		t.Errorf("open %+v", op)
	}
	// The describe-only fields are carried over as is.
	for _, w := range []string{`"authorizerArn": "arn:aws:iot:eu-west-1:210987654321:authorizer/tokens"`, `"creationDate": "2026-11-30T09:15:02.417000+00:00"`,
		`"domainConfigurationArn": "arn:aws:iot:eu-west-1:210987654321:domainconfiguration/main/a1b2c"`, `"domainName": "IoT.Example.com"`,
		`"tlsConfig": {`} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("output lacks %s:\n%s", w, b)
		}
	}
	if bytes.Contains(b, []byte("futureField")) {
		t.Error("an unknown field was carried over")
	}

	// To stdout, without a domain configuration.
	code, out, errs := runCLI(t, "import", "--authorizer", tokens, "--data-endpoint", "iot.example.com")
	if code != 0 {
		t.Fatalf("stdout: exit %d: %s", code, errs)
	}
	if _, err := config.Parse([]byte(out)); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestImport_errors(t *testing.T) {
	in := newImportInputs(t)
	tokens := in.write("tokens.json", in.tokens)
	other := in.write("other.json", strings.ReplaceAll(describeAuthorizerOutput("other", "", false), "eu-west-1:210987654321", "us-east-1:123456789012"))
	domain := in.write("main.json", describeDomainOutput)
	domain2 := in.write("second.json", strings.Replace(strings.Replace(describeDomainOutput, `"defaultAuthorizerName": "tokens"`, `"defaultAuthorizerName": "other"`, 1), "IoT.Example.com", "b.example.com", 1))
	noKeys := in.write("nokeys.json", strings.Replace(in.tokens, `"tokenSigningPublicKeys"`, `"ignored"`, 1))
	badARN := in.write("badarn.json", strings.Replace(in.tokens, "authorizer/tokens", "authorizer/x", 1))
	notJSON := in.write("not.json", "authorizerName: tokens")
	null, array := in.write("null.json", "null"), in.write("array.json", "[]")
	domainAgain := in.write("again.json", strings.Replace(describeDomainOutput, "IoT.Example.com", "iot.example.com.", 1))
	noName := in.write("noname.json", strings.Replace(describeDomainOutput, `"domainName"`, `"name"`, 1))
	numName := in.write("numname.json", strings.Replace(describeDomainOutput, `"IoT.Example.com"`, `7`, 1))
	badProtocol := in.write("badprotocol.json", strings.Replace(describeDomainOutput, `"SECURE_MQTT"`, `"MQTT"`, 1))
	ep := []string{"--data-endpoint", "iot.example.com"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no authorizer", ep, 2, "no --authorizer FILE given"},
		{"no endpoint", []string{"--authorizer", tokens}, 2, "no data endpoint"},
		{"bad cluster flag", append([]string{"--authorizer", tokens, "--cluster", "tokens"}, ep...), 2, `--cluster "tokens": want AUTHORIZER=CLUSTER`},
		{"cluster for no authorizer", append([]string{"--authorizer", tokens, "--cluster", "nope=c"}, ep...), 2, `no imported authorizer is named "nope"`},
		{"two accounts", append([]string{"--authorizer", tokens, "--authorizer", other}, ep...), 1, "give --region and --account-id"},
		{"domain default not imported", []string{"--authorizer", tokens, "--domain-configuration", domain2}, 1, `second.json: the domain's default authorizer "other" is not among the imported ones`},
		{"duplicate domain", []string{"--authorizer", tokens, "--domain-configuration", domain, "--domain-configuration", domainAgain}, 1, `again.json: domain "iot.example.com." is also in`},
		{"domain not JSON", []string{"--authorizer", tokens, "--domain-configuration", notJSON}, 1, "not the JSON output of aws iot describe-domain-configuration"},
		{"domain without domainName", []string{"--authorizer", tokens, "--domain-configuration", noName}, 1, "no domainName"},
		{"domainName not a string", []string{"--authorizer", tokens, "--domain-configuration", numName}, 1, "domainName must be a string, got 7"},
		{"the plugin refuses a domain", []string{"--authorizer", tokens, "--domain-configuration", badProtocol}, 1, "the plugin would refuse the configuration: domains[0].applicationProtocol"},
		{"default not imported", append([]string{"--authorizer", tokens, "--default-authorizer", "other"}, ep...), 1, `the default authorizer "other" is not among the imported ones`},
		{"duplicate authorizer", append([]string{"--authorizer", tokens, "--authorizer", tokens}, ep...), 1, `authorizer "tokens" is also in`},
		{"not JSON", append([]string{"--authorizer", notJSON}, ep...), 1, "not the JSON output of aws iot describe-authorizer"},
		{"null", append([]string{"--authorizer", null}, ep...), 1, "null.json: not the JSON output of aws iot describe-authorizer (a JSON object): got null"},
		{"domain an array", []string{"--authorizer", tokens, "--domain-configuration", array}, 1, "array.json: not the JSON output of aws iot describe-domain-configuration (a JSON object): got array"},
		{"missing file", append([]string{"--authorizer", filepath.Join(in.dir, "missing.json")}, ep...), 1, "missing.json"},
		{"plugin refuses", append([]string{"--authorizer", noKeys}, ep...), 1, "the plugin would refuse the configuration: authorizers[0].tokenSigningPublicKeys"},
		{"ARN of another authorizer", append([]string{"--authorizer", badARN}, ep...), 1, `names authorizer "x", but authorizerName is "tokens"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"import"}, tc.args...)...)
			if code != tc.code || out != "" || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %s (want %q)", code, tc.code, out, errs, tc.want)
			}
		})
	}
	// Two domains, each with its own default authorizer, and a top-level default.
	code, out, errs := runCLI(t, "import", "--authorizer", tokens, "--authorizer", other, "--region", "eu-west-1", "--account-id", "210987654321",
		"--domain-configuration", domain, "--domain-configuration", domain2, "--default-authorizer", "other")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c, err := config.Parse([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.DefaultAuthorizerName != "other" || len(c.Domains) != 2 || c.Domains[0].DefaultAuthorizerName != "tokens" || c.Domains[1].DefaultAuthorizerName != "other" {
		t.Errorf("config %+v, domains %+v %+v", c, c.Domains[0], c.Domains[1])
	}
}

// TestImport_domainsLeftOut: domains iotauthz cannot serve are left out with a note, a DISABLED
// one is kept (the plugin refuses its connections, as AWS), an unknown member is dropped with a
// note, and a --data-endpoint that is a domain's name is left to the domain.
func TestImport_domainsLeftOut(t *testing.T) {
	in := newImportInputs(t)
	tokens := in.write("tokens.json", in.tokens)
	x509 := in.write("x509.json", strings.NewReplacer(`"CUSTOM_AUTH"`, `"AWS_X509"`, "IoT.Example.com", "certs.example.com").Replace(describeDomainOutput))
	jobs := in.write("jobs.json", strings.NewReplacer(`"DATA"`, `"JOBS"`, "IoT.Example.com", "jobs.example.com").Replace(describeDomainOutput))
	off := in.write("off.json", strings.NewReplacer(`"ENABLED"`, `"DISABLED"`, "IoT.Example.com", "off.example.com",
		`"domainName"`, `"futureField": {}, "domainName"`).Replace(describeDomainOutput))
	main := in.write("main.json", describeDomainOutput)
	code, out, errs := runCLI(t, "import", "--authorizer", tokens, "--domain-configuration", x509, "--domain-configuration", jobs,
		"--domain-configuration", off, "--domain-configuration", main, "--data-endpoint", "IOT.example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{`x509.json: domain "certs.example.com" is left out: authenticationType AWS_X509`,
		`jobs.json: domain "jobs.example.com" is left out: serviceType JOBS`,
		`off.json: domain "off.example.com" is DISABLED`, `off.json: field "futureField" is not one of describe-domain-configuration's; left out`,
		`--data-endpoint IOT.example.com: left out, it is the domain of`} {
		if !strings.Contains(errs, w) {
			t.Errorf("stderr lacks %q:\n%s", w, errs)
		}
	}
	c, err := config.Parse([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(c.Domains) != 2 || c.Domains[0].Name != "off.example.com" || !c.Domains[0].Disabled || c.Domains[1].Name != "iot.example.com" ||
		strings.Join(c.DataEndpoints, ",") != "off.example.com,iot.example.com" || strings.Contains(out, "futureField") {
		t.Errorf("domains %+v, endpoints %q\n%s", c.Domains, c.DataEndpoints, out)
	}
}
