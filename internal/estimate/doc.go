// Package estimate models a stack's cold `pulumi up` and its monthly AWS bill from the planned
// resource graph, the one the graph snapshots hold (testdata/<stack>.graph.json): no cloud
// access, no Pulumi runtime.
//
// Time: every resource gets a typical creation time from one table (durations.go, each figure
// with its source), and starts when everything it waits for has finished, as Pulumi's engine
// schedules it (schedule.go). The report gives when the app serves, when the whole `up` ends,
// and the critical path to each, link by link.
//
// Money: every resource type has a price rule (cost.go): lines priced from the graph (cluster
// hours, NAT gateways, ALBs, volumes, keys, secrets) or from usage assumptions (NAT data, LCUs,
// log volumes, image sizes, the instance type), each line marked; or the reason it is free.
// Auto Mode's nodes come from the pods' requests in the charts' values (capacity.go). Prices
// sit in one dated table per region, each with its AWS pricing page (prices.go).
//
// Compare sets two reports side by side, for a pull request's base and head.
package estimate
