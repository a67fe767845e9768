// The Gateway API conformance suite as a test binary of our own: `go test -c` turns this package into
// conformance.test, which scripts/conformance-binaries.sh builds and `make conformance` runs against
// signalbox. The suite reads its settings (-gateway-class, -conformance-profiles, -report-output, ...)
// from the command line, so nothing here is specific to signalbox.
package suite_test

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
