namespace Junction.Admin;

/// <summary>
/// What an admin token may do (<c>admin.tokens[].role</c>). Ordered: each role includes the ones
/// below it, so a route names the least role it needs.
/// </summary>
public enum AdminRole
{
    /// <summary>Reads everything.</summary>
    Viewer = 1,

    /// <summary>Plus the operational writes: replay, retry, pause/resume, overrides, audits, smoke runs, incident actions.</summary>
    Operator = 2,

    /// <summary>Everything, including what destroys data (forget, once it exists).</summary>
    Admin = 3,
}

/// <summary>Who presented an admin token: its configured name (never the token) and its role.</summary>
public sealed record AdminIdentity(string Name, AdminRole Role);

/// <summary>The role a route needs, as endpoint metadata; <see cref="AdminAuth.RequireAdmin"/> enforces it.</summary>
public sealed record AdminRoleRequirement(AdminRole Role);

/// <summary>Marks an endpoint as behind the admin token, so the role walk in the tests can find every one.</summary>
public sealed class AdminEndpointMarker
{
    public static readonly AdminEndpointMarker Instance = new();

    private AdminEndpointMarker()
    {
    }
}

public static class AdminRoles
{
    public static bool Allows(AdminRole have, AdminRole need) => have >= need;

    /// <summary>The config and API spelling: viewer, operator, admin.</summary>
    public static string Name(AdminRole role) => role switch
    {
        AdminRole.Viewer => "viewer",
        AdminRole.Operator => "operator",
        AdminRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "not a role"),
    };

    public static bool TryParse(string? text, out AdminRole role)
    {
        role = text switch
        {
            "viewer" => AdminRole.Viewer,
            "operator" => AdminRole.Operator,
            "admin" => AdminRole.Admin,
            _ => 0,
        };
        return role != 0;
    }

    /// <summary>"a viewer", "an operator", "an admin": for the 403's sentence.</summary>
    public static string WithArticle(AdminRole role) => (role == AdminRole.Viewer ? "a " : "an ") + Name(role);

    /// <summary>Declares the least role a route needs. Every route in a <see cref="AdminAuth.RequireAdmin"/> group must.</summary>
    public static RouteHandlerBuilder Needs(this RouteHandlerBuilder builder, AdminRole role)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new AdminRoleRequirement(role));
    }
}
