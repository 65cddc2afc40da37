// Package awssample holds what the AWS CLI prints, for the tests of the packages that read it
// (plugin/config, the plugin's parity tests, iotauthz import), so that each reads the same
// sample instead of writing its own. A test that needs other values changes its copy.
//
// For tests only; not used by iotauthz itself.
package awssample

import _ "embed"

// DescribeDomainConfiguration is aws iot describe-domain-configuration's output for a custom-auth
// domain, with every member of AWS's DescribeDomainConfiguration response: domain
// Devices.Example.com (configuration "main", in us-east-1 and account 123456789012), ENABLED,
// serving every protocol (applicationProtocol DEFAULT), its default authorizer "tokens" with
// allowAuthorizerOverride false.
//
// See https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeDomainConfiguration.html
//
//go:embed describe-domain-configuration.json
var DescribeDomainConfiguration string
