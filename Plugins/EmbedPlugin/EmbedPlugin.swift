import Foundation
import PackagePlugin

/// Writes `EmbeddedFiles.swift` into the plugin's work directory from the
/// package's own files: `OpenAPIDocument.text` from `openapi.yaml` and
/// `PageAssets.html`, `.css`, `.javascript` from `page/`. So the binary
/// serves the document and the page with no file beside it, the files stay
/// the one source (nothing generated is committed), and the served bytes are
/// the files' bytes (LossServiceTests compares them).
///
/// A build command with the files as its inputs: it runs when one of them
/// changes, not on every build. Each file becomes a raw multi-line string
/// literal, which compiles fast and keeps the text byte for byte provided it
/// has no carriage return (Swift normalises line endings in literals), ends
/// with a line feed and never contains the delimiter; the script refuses a
/// file that breaks one of these rules, so the build fails rather than
/// serving different bytes.
@main
struct EmbedPlugin: BuildToolPlugin {
    /// The embedded files: Swift type, property and path in the package.
    static let files: [(type: String, property: String, path: String)] = [
        ("OpenAPIDocument", "text", "openapi.yaml"),
        ("PageAssets", "html", "page/index.html"),
        ("PageAssets", "css", "page/page.css"),
        ("PageAssets", "javascript", "page/page.js"),
    ]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        let inputs = Self.files.map { package.appending(path: $0.path) }
        var arguments = ["-c", Self.script, "embed", output.path]
        for file in Self.files { arguments += [file.type, file.property, package.appending(path: file.path).path, file.path] }
        return [
            .buildCommand(
                displayName: "Embedding openapi.yaml and page/ in \(target.name)",
                executable: URL(filePath: "/bin/sh"),
                arguments: arguments,
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }

    /// `sh -c script embed OUTPUT (TYPE PROPERTY FILE NAME)...`: one enum per
    /// type (the files of a type are consecutive), one `static let` per file.
    static let script = #####"""
        out=$1; shift
        tmp="$out.tmp"
        delimiter='"""####'
        {
            echo '// Generated at build time by Plugins/EmbedPlugin from the package'"'"'s files: do not edit.'
            current=
            while [ $# -gt 0 ]; do
                type=$1 property=$2 file=$3 name=$4; shift 4
                if grep -q "$(printf '\r')" "$file"; then echo "EmbedPlugin: $name has CR line endings" >&2; exit 1; fi
                if [ -n "$(tail -c 1 "$file")" ]; then echo "EmbedPlugin: $name must end with a newline" >&2; exit 1; fi
                if grep -qF "$delimiter" "$file" || grep -qF '\####' "$file"; then
                    echo "EmbedPlugin: $name contains the raw string delimiter" >&2; exit 1
                fi
                if [ "$type" != "$current" ]; then
                    [ -n "$current" ] && echo '}'
                    echo
                    echo "/// Files of the package, embedded at build time (Plugins/EmbedPlugin)."
                    echo "enum $type {"
                    current=$type
                fi
                echo "    /// $name"
                echo "    static let $property = ####\"\"\""
                cat "$file"
                # The literal ends before the line feed that precedes the closing
                # delimiter, so this empty line keeps the file's final newline.
                echo
                echo "$delimiter"
            done
            echo '}'
        } > "$tmp" || { rm -f "$tmp"; exit 1; }
        mv "$tmp" "$out"
        """#####
}
