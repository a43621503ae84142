using Junction.Config;
using Junction.Intake;
using Junction.Observability;

namespace Junction.Admin;

/// <summary>
/// Bearer tokens for the admin API (<c>admin.tokens</c>), compared as <see cref="BearerTokens"/>, and the
/// role each carries. A route in a <see cref="RequireAdmin"/> group declares the least role it needs
/// (<see cref="AdminRoles.Needs"/>): no token or an unknown one is 401, a known token with too small a
/// role is 403 naming the role needed.
/// </summary>
public sealed class AdminAuth(JunctionConfig config)
{
    /// <summary>The <see cref="HttpContext.Items"/> key under which the request's <see cref="AdminIdentity"/> is kept.</summary>
    public const string IdentityItem = "junction.admin.identity";

    private readonly AdminIdentity[] _identities = [.. config.Admin.Entries.Select(e => new AdminIdentity(e.Name, e.Role))];
    private readonly BearerTokens _tokens = new(config.Admin.Entries.Select(e => e.Token));

    public bool IsAuthorized(HttpRequest request) => Identify(request) is not null;

    /// <summary>Who the request's Bearer token belongs to; null when it carries none of admin.tokens.</summary>
    public AdminIdentity? Identify(HttpRequest request) => At(_tokens.Match(request));

    /// <summary>Who <paramref name="token"/> belongs to (the dashboard's sign-in); null when it is none of admin.tokens.</summary>
    public AdminIdentity? Identify(string token) => At(_tokens.Match(token));

    private AdminIdentity? At(int position) => position >= 0 ? _identities[position] : null;

    /// <summary>The identity <see cref="RequireAdmin"/> put on this request; null outside an admin route.</summary>
    public static AdminIdentity? Current(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(IdentityItem, out var value) ? value as AdminIdentity : null;
    }

    public static RouteGroupBuilder RequireAdmin(RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.WithMetadata(AdminEndpointMarker.Instance);
        return group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var auth = http.RequestServices.GetRequiredService<AdminAuth>();
            if (auth.Identify(http.Request) is not { } identity)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return Problems.Create(StatusCodes.Status401Unauthorized, "admin-token", "Unauthorized",
                    "This endpoint needs 'Authorization: Bearer <token>' with one of the tokens in admin.tokens.");
            }
            // A route that forgot to declare its role is closed to all but admins (and the role walk test fails).
            var need = http.GetEndpoint()?.Metadata.GetMetadata<AdminRoleRequirement>()?.Role ?? AdminRole.Admin;
            if (!AdminRoles.Allows(identity.Role, need))
            {
                Log.AdminRoleRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Junction.Admin"),
                    identity.Name, AdminRoles.Name(identity.Role), http.Request.Method,
                    (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "", AdminRoles.Name(need));
                return Problems.Create(StatusCodes.Status403Forbidden, "admin-role", "Forbidden",
                    $"{http.Request.Method} {http.Request.Path} needs the {AdminRoles.Name(need)} role; this token is {AdminRoles.WithArticle(identity.Role)}.",
                    new Dictionary<string, object?> { ["needed_role"] = AdminRoles.Name(need), ["role"] = AdminRoles.Name(identity.Role) });
            }
            http.Items[IdentityItem] = identity;
            return await next(context);
        });
    }
}
