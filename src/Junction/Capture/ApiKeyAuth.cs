using Junction.Admin;
using Junction.Config;

namespace Junction.Capture;

/// <summary>The keys in <c>api_keys:</c>, for POST /v1/events, compared as <see cref="BearerTokens"/>.</summary>
public sealed class ApiKeyAuth(JunctionConfig config)
{
    private readonly BearerTokens _keys = new(config.ApiKeys);

    public bool IsAuthorized(HttpRequest request) => _keys.Authorizes(request);
}
