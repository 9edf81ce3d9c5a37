-- startref for Neovim 0.7+ with the built-in LSP client only (no plugins).
-- Use it from your init.lua:  dofile('/path/to/startref.lua')   (or copy it into your config)
-- In a .tex buffer: type inside \cite{...} and press <C-x><C-o> (or let nvim-cmp / your completion plugin ask);
-- :lua vim.lsp.buf.code_action() outside a cite offers "Cite: ..." for the best three entries;
-- K on a key shows the entry, gd jumps to it in the .bib.
local cmd = vim.g.startref_cmd or { 'startref', 'lsp' }

local function attach(bufnr)
  local root = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
  local client_id = vim.lsp.start_client({ name = 'startref', cmd = cmd, root_dir = root })
  if client_id then
    vim.lsp.buf_attach_client(bufnr, client_id)
    vim.api.nvim_buf_set_option(bufnr, 'omnifunc', 'v:lua.vim.lsp.omnifunc')
    vim.api.nvim_buf_set_keymap(bufnr, 'n', 'K', '<cmd>lua vim.lsp.buf.hover()<CR>', { noremap = true })
    vim.api.nvim_buf_set_keymap(bufnr, 'n', 'gd', '<cmd>lua vim.lsp.buf.definition()<CR>', { noremap = true })
  end
end

vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'tex', 'plaintex', 'bib' },
  callback = function(args) attach(args.buf) end,
})
