using Junction.Config;
using Junction.Intake;

namespace Junction.Admin;

/// <summary>Bearer tokens for the admin API (<c>admin.tokens</c>), compared as <see cref="BearerTokens"/>.</summary>
public sealed class AdminAuth(JunctionConfig config)
{
    private readonly BearerTokens _tokens = new(config.Admin.Tokens);

    public bool IsAuthorized(HttpRequest request) => _tokens.Authorizes(request);

    public static RouteGroupBuilder RequireAdmin(RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var auth = context.HttpContext.RequestServices.GetRequiredService<AdminAuth>();
            if (auth.IsAuthorized(context.HttpContext.Request)) return await next(context);
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Create(StatusCodes.Status401Unauthorized, "admin-token", "Unauthorized",
                "This endpoint needs 'Authorization: Bearer <token>' with one of the tokens in admin.tokens.");
        });
}
