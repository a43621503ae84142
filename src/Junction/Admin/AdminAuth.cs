using System.Security.Cryptography;
using System.Text;
using Junction.Config;
using Junction.Intake;

namespace Junction.Admin;

/// <summary>
/// Bearer tokens for the admin API. Only their SHA-256 hashes are held, and the comparison is over
/// fixed-length hashes in constant time, so neither a token's content nor its length leaks.
/// </summary>
public sealed class AdminAuth(JunctionConfig config)
{
    private readonly byte[][] _hashes = config.Admin.Tokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t))).ToArray();

    public bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()));
        var ok = false;
        foreach (var hash in _hashes) ok |= CryptographicOperations.FixedTimeEquals(hash, presented);
        return ok;
    }

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
