// Package s3policy holds the bucket-policy statements that every S3 bucket of the program
// shares, so that each rule is written once.
package s3policy

// TLSOnly is the statement that refuses every request to the bucket and its objects that does
// not arrive over TLS (aws:SecureTransport false), as AWS's S3 security best practices advise
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html). It
// grants nothing.
func TLSOnly(bucketArn string) map[string]any {
	return map[string]any{
		"Sid":       "TLSOnly",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    "s3:*",
		"Resource":  []string{bucketArn, bucketArn + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}
}
