module guichet.local/sdk/journey

go 1.19

require guichet.local/sdk/guichet v0.0.0

// The client is generated into ../client by ../generate.sh and not kept in git.
replace guichet.local/sdk/guichet => ../client
