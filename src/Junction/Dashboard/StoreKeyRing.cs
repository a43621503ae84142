using System.Xml.Linq;
using Junction.Storage;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Junction.Dashboard;

/// <summary>
/// Keeps ASP.NET Core's data-protection keys in Junction's store instead of the machine's home
/// directory: the dashboard's session and antiforgery cookies are protected with them, so every node
/// on one PostgreSQL (behind a load balancer) and a node restarted in a fresh container accept the
/// cookies any of them issued. The key manager calls this rarely (at start, when a key is created
/// or the ring is refreshed) and synchronously, hence the blocking waits.
/// </summary>
public sealed class StoreKeyRing(IJunctionStore store, TimeProvider time) : IXmlRepository
{
    private readonly RelationalStore _store = store as RelationalStore ?? throw new ArgumentException("the key ring needs the relational store", nameof(store));

    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. _store.ListDataProtectionKeysAsync(CancellationToken.None).GetAwaiter().GetResult().Select(XElement.Parse)];

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var name = string.IsNullOrEmpty(friendlyName) ? Guid.CreateVersion7(time.GetUtcNow()).ToString("N") : friendlyName;
        _store.InsertDataProtectionKeyAsync(name, element.ToString(SaveOptions.DisableFormatting), time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None)
            .GetAwaiter().GetResult();
    }
}
