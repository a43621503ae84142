namespace Junction.Storage;

// The data-protection key ring (0015_data_protection.sql): keys are only ever added; the key manager
// decides which is current from their own dates.
public abstract partial class RelationalStore
{
    public async Task<IReadOnlyList<string>> ListDataProtectionKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT xml FROM {Tables.DataProtectionKeys} ORDER BY created_at, name";
        return await ReadAllAsync(cmd, r => r.GetString(0), cancellationToken);
    }

    /// <summary>Adds a key; a second node adding one under the same name keeps the first.</summary>
    public async Task InsertDataProtectionKeyAsync(string name, string xml, long createdAt, CancellationToken cancellationToken)
    {
        using var gate = await EnterWriteAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"INSERT INTO {Tables.DataProtectionKeys} (name, xml, created_at) VALUES (@name, @xml, @created) ON CONFLICT (name) DO NOTHING";
        AddParameter(cmd, "name", name);
        AddParameter(cmd, "xml", xml);
        AddParameter(cmd, "created", createdAt);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
