// The sample app of Environments for Encore: a small shop backend with every kind of infrastructure.
{
	"id": "",
	"lang": "typescript",
}
